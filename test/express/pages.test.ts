import request from 'supertest';
import type { Express } from 'express';
import type { SsoGuardOptions } from '../../lib/options';
import type { Emulator } from '../../lib/testing';
import {
  EXPRESS_VERSIONS,
  cookiesFrom,
  createTestApp,
  setCookieOf,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { testOptions } from '../helpers/options';
import { auth } from '../../lib/express/middleware';

const HTML = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';
const JSON_ACCEPT = 'application/json';

/** What every page keeps, whatever its language or renderer. */
function expectPageHeaders(res: request.Response, lang: string): void {
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(res.headers['content-security-policy']).toContain("form-action 'self'");
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['content-language']).toBe(lang);
}

const varies = (res: request.Response): boolean =>
  String(res.headers.vary ?? '')
    .split(/,\s*/)
    .some((v) => v.toLowerCase() === 'accept-language');

describe.each(EXPRESS_VERSIONS)('pages and languages (%s)', (_name, express) => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator();
  });
  afterAll(() => sso.close());

  const make = (options: SsoGuardOptions = {}): Express =>
    createTestApp(express as ExpressFactory, sso, { authRequired: false, ...options });

  describe('language from Accept-Language', () => {
    let app: Express;
    beforeAll(() => {
      app = make();
    });

    it('renders a failed sign-in page in Simplified Chinese for zh-CN', async () => {
      const res = await request(app)
        .get('/callback?state=nope&code=x')
        .set('Accept', HTML)
        .set('Accept-Language', 'zh-CN,zh;q=0.9,en;q=0.8')
        .expect(400);
      expectPageHeaders(res, 'zh-CN');
      expect(varies(res)).toBe(true);
      expect(res.text).toContain('<html lang="zh-CN">');
      expect(res.text).toContain('<title>登录失败</title>');
      expect(res.text).toContain('登录状态无效、已过期或已被使用，请重新登录');
      expect(res.text).toMatch(/<a href="\/login">重新登录<\/a>/);
      expect(res.text).not.toMatch(/Sign in|login state/);
    });

    it('renders it in English without the header, or for a language it does not have', async () => {
      for (const header of [undefined, 'fr-FR,fr;q=0.9', 'zh-TW', 'zh-Hant']) {
        const req = request(app).get('/callback?state=nope&code=x').set('Accept', HTML);
        const res = await (header === undefined ? req : req.set('Accept-Language', header)).expect(400);
        expectPageHeaders(res, 'en');
        expect(res.text).toContain('<html lang="en">');
        expect(res.text).toContain('Unknown, expired or already used login state; please sign in again');
        expect(res.text).toContain('>Sign in again</a>');
      }
    });

    it.each([
      ['zh', 'zh-CN'],
      ['zh-Hans', 'zh-CN'],
      ['zh-Hans-CN', 'zh-CN'],
      ['ZH-cn', 'zh-CN'],
      ['en;q=0.5, zh-CN;q=0.9', 'zh-CN'],
      ['zh-CN;q=0.4, en-US;q=0.6', 'en'],
      ['zh-TW, zh;q=0.8, en;q=0.5', 'zh-CN'],
      ['zh;q=0, en', 'en'],
      ['de, *;q=0.5', 'en'],
    ])('Accept-Language %j -> %s', async (header, lang) => {
      const denied = await request(app)
        .get('/guarded')
        .set('Accept', JSON_ACCEPT)
        .set('Accept-Language', header)
        .expect(401);
      expect(denied.headers['content-language']).toBe(lang);
    });

    it('answers JSON errors in the language too, with the same stable code', async () => {
      const zh = await request(app)
        .get('/guarded')
        .set('Accept', JSON_ACCEPT)
        .set('Accept-Language', 'zh-CN')
        .expect(401);
      expect(zh.body).toEqual({ error: 'unauthenticated', message: '需要登录' });
      expect(zh.headers['content-language']).toBe('zh-CN');
      expect(zh.headers['cache-control']).toBe('no-store');
      expect(varies(zh)).toBe(true);
      const en = await request(app).get('/guarded').set('Accept', JSON_ACCEPT).expect(401);
      expect(en.body).toEqual({ error: 'unauthenticated', message: 'Sign-in required' });
      expect(en.headers['content-language']).toBe('en');
    });

    it('translates a message with a variable part', async () => {
      const res = await request(app).get('/callback?state=a&state=b').set('Accept-Language', 'zh').expect(400);
      expect(res.body).toEqual({ error: 'invalid_request', message: '参数“state”重复' });
    });

    it('renders the cross-site logout confirmation in the language, same form', async () => {
      const res = await request(app)
        .get('/logout?returnTo=%2Fbye')
        .set('Accept', HTML)
        .set('Sec-Fetch-Site', 'cross-site')
        .set('Sec-Fetch-Mode', 'navigate')
        .set('Accept-Language', 'zh-CN')
        .expect(200);
      expectPageHeaders(res, 'zh-CN');
      expect(res.text).toContain('<title>退出登录？</title>');
      expect(res.text).toContain(
        '<form method="post" action="/logout?returnTo=%2Fbye"><button type="submit">退出登录</button> <a href="/">取消</a></form>',
      );
      const en = await request(app)
        .get('/logout')
        .set('Accept', HTML)
        .set('Sec-Fetch-Site', 'cross-site')
        .set('Sec-Fetch-Mode', 'navigate')
        .expect(200);
      expectPageHeaders(en, 'en');
      expect(en.text).toContain('<button type="submit">Sign out</button>');
    });

    it('renders the SSO-down page in the language, 503 with Retry-After', async () => {
      const { cookie } = await signIn(app, sso);
      await sso.down();
      try {
        const res = await request(app)
          .get('/guarded')
          .set('Cookie', cookie)
          .set('Accept', HTML)
          .set('Accept-Language', 'zh-CN')
          .expect(503);
        expectPageHeaders(res, 'zh-CN');
        expect(res.headers['retry-after']).toBe('5');
        expect(res.text).toContain('<h1>登录服务暂时不可用</h1>');
        expect(res.text).toContain('<p>SSO 暂时无法访问，请稍后重试</p>');
      } finally {
        await sso.up();
      }
    });

    it('renders the forbidden page when authorize refuses the user', async () => {
      const refusing = make({ authorize: () => false });
      const login = await request(refusing).get('/login').expect(302);
      const authorize = await fetch(login.headers.location as string, { redirect: 'manual' });
      const back = new URL(authorize.headers.get('location')!);
      const cookie = cookiesFrom(setCookieOf(login));
      const res = await request(refusing)
        .get(`${back.pathname}${back.search}`)
        .set('Cookie', cookie)
        .set('Accept', HTML)
        .set('Accept-Language', 'zh-CN')
        .expect(403);
      expectPageHeaders(res, 'zh-CN');
      expect(res.text).toContain('<h1>无权访问</h1><p>此账号无权登录本应用</p>');
    });
  });

  describe('the language option', () => {
    it('language: "zh-CN" answers in Chinese whatever the header, without Vary', async () => {
      const app = make({ language: 'zh-CN' });
      const res = await request(app)
        .get('/guarded')
        .set('Accept', JSON_ACCEPT)
        .set('Accept-Language', 'en-US')
        .expect(401);
      expect(res.body.message).toBe('需要登录');
      expect(res.headers['content-language']).toBe('zh-CN');
      expect(varies(res)).toBe(false);
    });

    it('language: "en" answers in English whatever the header', async () => {
      const app = make({ language: 'en' });
      const res = await request(app)
        .get('/callback?state=x&code=y')
        .set('Accept', HTML)
        .set('Accept-Language', 'zh-CN')
        .expect(400);
      expectPageHeaders(res, 'en');
      expect(varies(res)).toBe(false);
      expect(res.text).toContain('<h1>Sign-in failed</h1>');
    });

    it('refuses an unknown language at construction, naming the option', () => {
      expect(() => auth(testOptions({ language: 'fr' as 'en' }))).toThrow(
        /^"language" must be "auto", "en" or "zh-CN"; received "fr"$/,
      );
      expect(() => auth(testOptions({ renderPage: 'x' as never }))).toThrow(/^"renderPage" must be a function/);
    });
  });

  describe('renderPage', () => {
    it('replaces a page, which keeps its status, CSP, no-store and language headers', async () => {
      const seen: unknown[] = [];
      const app = make({
        renderPage: (kind, context) => {
          seen.push({ kind, context });
          if (kind === 'logout-confirm' || kind === 'switch-account')
            return `<p>${context.title}|${context.action}|${context.method}|${context.submitLabel}</p>`;
          return `<p>${kind}:${context.code}:${context.status}:${context.message}:${context.signInUrl}</p>`;
        },
      });
      const { cookie } = await signIn(app, sso);
      const page = await request(app)
        .get('/callback?state=x&code=y')
        .set('Cookie', cookie)
        .set('Accept', HTML)
        .set('Accept-Language', 'zh')
        .expect(400);
      expectPageHeaders(page, 'zh-CN');
      expect(page.text).toBe('<p>error:invalid_state:400:登录状态无效、已过期或已被使用，请重新登录:/login</p>');
      const confirm = await request(app)
        .get('/logout?returnTo=%2Fx')
        .set('Cookie', cookie)
        .set('Accept', HTML)
        .set('Sec-Fetch-Site', 'cross-site')
        .set('Sec-Fetch-Mode', 'navigate')
        .expect(200);
      expectPageHeaders(confirm, 'en');
      expect(confirm.text).toBe('<p>Sign out?|/logout?returnTo=%2Fx|post|Sign out</p>');
      // The contexts hold what is documented, and no cookie, token or secret.
      expect(seen).toEqual([
        {
          kind: 'error',
          context: {
            lang: 'zh-CN',
            status: 400,
            title: '登录失败',
            message: '登录状态无效、已过期或已被使用，请重新登录',
            code: 'invalid_state',
            signInUrl: '/login',
            signInLabel: '重新登录',
          },
        },
        {
          kind: 'logout-confirm',
          context: {
            lang: 'en',
            status: 200,
            title: 'Sign out?',
            message: 'Another site asked to sign you out of this application.',
            action: '/logout?returnTo=%2Fx',
            method: 'post',
            fields: {},
            cancelUrl: '/',
            submitLabel: 'Sign out',
            cancelLabel: 'Cancel',
          },
        },
      ]);
      const printed = JSON.stringify(seen);
      for (const pair of cookie.split('; ')) expect(printed).not.toContain(pair.split('=')[1]);
    });

    it('undefined keeps the built-in page', async () => {
      const app = make({ renderPage: () => undefined });
      const res = await request(app).get('/callback?state=x&code=y').set('Accept', HTML).expect(400);
      expectPageHeaders(res, 'en');
      expect(res.text).toContain('<h1>Sign-in failed</h1>');
    });

    it('a throwing renderPage falls back to the built-in page and logs a line, never a 500', async () => {
      const lines: string[] = [];
      const log = (line: string): void => void lines.push(line);
      const app = make({
        logger: { debug: () => undefined, info: () => undefined, warn: log, error: log },
        renderPage: () => {
          throw new Error('template missing');
        },
      });
      const res = await request(app)
        .get('/callback?state=x&code=y')
        .set('Accept', HTML)
        .set('Accept-Language', 'zh-CN')
        .expect(400);
      expectPageHeaders(res, 'zh-CN');
      expect(res.text).toContain('<h1>登录失败</h1>');
      expect(lines).toEqual(['express-sso-guard: renderPage("error") threw (Error); the built-in page was sent']);
    });

    it('is not asked for JSON answers', async () => {
      const renderPage = jest.fn(() => '<p>custom</p>');
      const app = make({ renderPage });
      await request(app).get('/guarded').set('Accept', JSON_ACCEPT).expect(401);
      expect(renderPage).not.toHaveBeenCalled();
    });
  });
});
