import { format } from 'node:util';
import createDebug from 'debug';
import request from 'supertest';
import type { Express } from 'express';
import type { Emulator } from '../../lib/testing';
import type { LoginEvent } from '../../lib/telemetry/events';
import type { SsoGuardOptions } from '../../lib/options';
import {
  APP_BASE_URL,
  EXPRESS_VERSIONS,
  cookiesFrom,
  createTestApp,
  setCookieOf,
  signIn,
  startTestEmulator,
} from '../helpers/app';
import { fakeClock, type FakeClock } from '../helpers/clock';
import { CLIENT_SECRET, SECRET, testOptions } from '../helpers/options';
import { createCore } from '../../lib/instance';
import { createClient } from 'redis';
import { redisStore } from '../../lib/store/redis';
import { REDIS_URL, cleanPrefix, dumpPrefix, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';

// Issue 19, section 1: launches from the AppCenter console (`/launch?token=`) and the SaaS redirect
// (`?access_token=&refresh_token=` on the app URL) start a session through check_token, strip the
// tokens from the URL, never switch accounts silently, and never show a token anywhere.

const NAVIGATE = {
  'Sec-Fetch-Mode': 'navigate',
  'Sec-Fetch-Dest': 'document',
  Accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
};
const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin', Origin: APP_BASE_URL };

/** The hidden fields of the confirmation page's form. */
function formFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]!] = m[2]!;
  return out;
}

/**
 * A launch as another user than the signed-in one: its 303 to the confirmation page (whose cookie
 * the browser keeps), then the page. Returns both answers and the browser's cookies after them.
 */
async function launchOther(
  app: Express,
  url: string,
  cookie: string,
  headers: Record<string, string> = {},
): Promise<{ launched: request.Response; page: request.Response; cookie: string }> {
  const launched = await request(app).get(url).set('Cookie', cookie).set(NAVIGATE).set(headers);
  const jar = cookiesFrom(setCookieOf(launched), cookie);
  if (launched.status !== 303) return { launched, page: launched, cookie: jar };
  const page = await request(app).get(String(launched.headers.location)).set('Cookie', jar).set(NAVIGATE).set(headers);
  return { launched, page, cookie: jar };
}

/** The confirmation page's button: a POST of its form, from the app's own origin unless `headers` say otherwise. */
function confirmSwitch(
  app: Express,
  page: request.Response,
  cookie: string,
  headers: Record<string, string> = SAME_ORIGIN,
): request.Test {
  return request(app).post('/launch').type('form').send(formFields(page.text)).set('Cookie', cookie).set(headers);
}

describe.each(EXPRESS_VERSIONS)('launch (%s)', (_name, express) => {
  let sso: Emulator;
  let clock: FakeClock;
  let app: Express;
  const logins: LoginEvent[] = [];
  const make = (options: SsoGuardOptions = {}): Express =>
    createTestApp(express, sso, { launch: true, clock, events: { login: (e) => void logins.push(e) }, ...options });

  beforeAll(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock });
    app = make();
  });
  afterAll(() => sso.close());
  beforeEach(() => {
    logins.length = 0;
  });

  const me = async (cookie: string): Promise<string | null> => {
    const res = await request(app).get('/api/me').set('Cookie', cookie);
    return res.status === 200 ? (res.body as { user: { user_id: string } }).user.user_id : null;
  };
  const sessionCookie = (res: request.Response): boolean =>
    setCookieOf(res).some((c) => c.startsWith('sso_session=') && !/Max-Age=0/.test(c));

  describe('console launch (routes.launch, ?token=)', () => {
    it('checks the token, starts the session and goes to the same-origin returnTo', async () => {
      const { access_token } = sso.issueTokens('usr-alice');
      const res = await request(app)
        .get(`/launch?token=${access_token}&returnTo=${encodeURIComponent('/profile?tab=2')}`)
        .set(NAVIGATE)
        .expect(303);
      expect(res.headers.location).toBe('/profile?tab=2');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(await me(cookiesFrom(setCookieOf(res)))).toBe('usr-alice');
      expect(logins).toEqual([{ userId: 'usr-alice', entry: 'launch-console' }]);
    });

    it('goes home without returnTo, or with a foreign one', async () => {
      for (const returnTo of ['', '&returnTo=%2F%2Fevil.test', '&returnTo=https%3A%2F%2Fevil.test%2F']) {
        const { access_token } = sso.issueTokens('usr-alice');
        const res = await request(app).get(`/launch?token=${access_token}${returnTo}`).set(NAVIGATE).expect(303);
        expect(res.headers.location).toBe('/');
        expect(sessionCookie(res)).toBe(true);
      }
    });

    it('a plain GET (not a navigation) to the launch route launches too', async () => {
      const { access_token } = sso.issueTokens('usr-alice');
      const res = await request(app).get(`/launch?token=${access_token}`).expect(303);
      expect(await me(cookiesFrom(setCookieOf(res)))).toBe('usr-alice');
    });

    it('accepts access_token and refresh_token on the launch route', async () => {
      const { access_token, refresh_token } = sso.issueTokens('usr-bob');
      const res = await request(app)
        .get(`/launch?access_token=${access_token}&refresh_token=${refresh_token!}`)
        .set(NAVIGATE)
        .expect(303);
      expect(res.headers.location).toBe('/');
      expect(await me(cookiesFrom(setCookieOf(res)))).toBe('usr-bob');
    });
  });

  describe('SaaS redirect (?access_token=&refresh_token= on any path)', () => {
    it('starts the session and redirects to the same URL without the tokens, other params kept', async () => {
      const { access_token, refresh_token } = sso.issueTokens('usr-bob');
      const res = await request(app)
        .get(`/page?x=1&access_token=${access_token}&y=a%20b&refresh_token=${refresh_token!}&z`)
        .set(NAVIGATE)
        .expect(303);
      expect(res.headers.location).toBe('/page?x=1&y=a%20b&z');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-store');
      const cookie = cookiesFrom(setCookieOf(res));
      expect(await me(cookie)).toBe('usr-bob');
      expect(logins).toEqual([{ userId: 'usr-bob', entry: 'launch-redirect' }]);
      const page = await request(app).get('/page?x=1').set('Cookie', cookie).set(NAVIGATE).expect(200);
      expect(page.text).toContain('bob');
    });

    it('a session launched with a refresh token is refreshed when its token is rejected', async () => {
      const { access_token, refresh_token } = sso.issueTokens('usr-bob', { accessTokenTtl: 60 });
      const res = await request(app)
        .get(`/page?access_token=${access_token}&refresh_token=${refresh_token!}`)
        .set(NAVIGATE)
        .expect(303);
      expect(res.headers.location).toBe('/page');
      const cookie = cookiesFrom(setCookieOf(res));
      clock.advance(400_000);
      sso.resetCounts();
      const later = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect((later.body as { user: { user_id: string } }).user.user_id).toBe('usr-bob');
      expect(sso.counts.refresh_token).toBe(1);
    });

    it('keeps a path without other params', async () => {
      const { access_token } = sso.issueTokens('usr-alice');
      const res = await request(app).get(`/deep/path/?access_token=${access_token}`).set(NAVIGATE).expect(303);
      expect(res.headers.location).toBe('/deep/path/');
    });

    it('is not a launch for an API call, a HEAD, or `token` off the launch route', async () => {
      const { access_token } = sso.issueTokens('usr-alice');
      const api = await request(app).get(`/api/me?access_token=${access_token}`).set('Accept', 'application/json');
      expect(api.status).toBe(401);
      expect(sessionCookie(api)).toBe(false);
      // Not a launch, but the sign-in it is sent to does not carry the tokens on either.
      const head = await request(app).head(`/page?access_token=${access_token}&x=1`).set(NAVIGATE);
      expect([head.status, head.headers.location]).toEqual([302, '/login?returnTo=%2Fpage%3Fx%3D1']);
      expect(sessionCookie(head)).toBe(false);
      const headRoute = await request(app).head(`/launch?token=${access_token}&x=1`).set(NAVIGATE);
      expect([headRoute.status, headRoute.headers.location]).toEqual([302, '/login?returnTo=%2Flaunch%3Fx%3D1']);
      const token = await request(app).get(`/page?token=${access_token}`).set(NAVIGATE).expect(302);
      expect(token.headers.location).toMatch(/^\/login\?returnTo=/);
      expect(sessionCookie(token)).toBe(false);
    });

    it('with launch off (the default), access_token is an ordinary parameter', async () => {
      const off = createTestApp(express, sso, { clock });
      const { access_token } = sso.issueTokens('usr-alice');
      const res = await request(off).get(`/page?access_token=${access_token}`).set(NAVIGATE).expect(302);
      expect(res.headers.location).toMatch(/^\/login\?returnTo=/);
      expect(sessionCookie(res)).toBe(false);
      const launch = await request(off).get(`/launch?token=${access_token}`).set(NAVIGATE).expect(302);
      expect(sessionCookie(launch)).toBe(false);
    });
  });

  describe('without a refresh token, the session lasts until the access token expires, then signs in again', () => {
    const signedOutAt = async (cookie: string): Promise<void> => {
      const page = await request(app).get('/page').set('Cookie', cookie).set(NAVIGATE).expect(302);
      expect(page.headers.location).toBe('/login?returnTo=%2Fpage');
      expect(setCookieOf(page).some((c) => c.startsWith('sso_session=') && /Max-Age=0/.test(c))).toBe(true);
    };

    it('a JWT access token (iam_jwt): at its exp', async () => {
      const code = sso.approve({ redirectUri: `${APP_BASE_URL}/callback`, userId: 'usr-bob', tokenIssuer: 'iam_jwt' });
      const client = createCore(testOptions({ ssoBaseUrl: sso.url, clock })).sso;
      const tokens = await client.exchangeCode(code);
      expect(tokens.refreshToken).toBeUndefined();
      const res = await request(app).get(`/launch?token=${tokens.accessToken}`).set(NAVIGATE).expect(303);
      const cookie = cookiesFrom(setCookieOf(res));
      clock.advance((tokens.expiresIn - 5) * 1000);
      expect(await me(cookie)).toBe('usr-bob');
      clock.advance(6000);
      await signedOutAt(cookie);
    });

    it('an opaque access token: when check_token refuses it (at most cache.ttl after its expiry)', async () => {
      const { access_token } = sso.issueTokens('usr-alice', { accessTokenTtl: 600, refreshToken: false });
      const res = await request(app).get(`/launch?token=${access_token}`).set(NAVIGATE).expect(303);
      const cookie = cookiesFrom(setCookieOf(res));
      clock.advance(590_000);
      expect(await me(cookie)).toBe('usr-alice');
      clock.advance(320_000);
      await signedOutAt(cookie);
    });
  });

  describe('a missing, invalid or expired token: tokens stripped, a new sign-in, no session', () => {
    const cases: Array<[string, () => string, string]> = [
      ['missing', () => '/launch?returnTo=%2Fdocs', '/login?returnTo=%2Fdocs'],
      ['empty', () => '/launch?token=', '/login?returnTo=%2F'],
      ['unknown', () => '/launch?token=not-a-real-token', '/login?returnTo=%2F'],
      ['not Bearer-safe', () => '/launch?token=%3Cscript%3E', '/login?returnTo=%2F'],
      ['repeated token', () => `/launch?token=${sso.issueTokens().access_token}&token=x`, '/login?returnTo=%2F'],
      [
        'token and access_token together',
        () => `/launch?token=${sso.issueTokens().access_token}&access_token=y`,
        '/login?returnTo=%2F',
      ],
      ['too long', () => `/launch?token=${'a'.repeat(5000)}`, '/login?returnTo=%2F'],
      [
        'repeated access_token on a page',
        () => `/page?q=1&access_token=${sso.issueTokens().access_token}&access_token=z`,
        '/login?returnTo=%2Fpage%3Fq%3D1',
      ],
      ['refresh_token alone on a page', () => '/page?refresh_token=abc&q=1', '/login?returnTo=%2Fpage%3Fq%3D1'],
      ['revoked', () => revoked(), '/login?returnTo=%2Fpage'],
    ];
    const revoked = (): string => {
      const { access_token } = sso.issueTokens();
      sso.revokeToken(access_token);
      return `/page?access_token=${access_token}`;
    };

    it.each(cases)('%s', async (_label, url, location) => {
      const res = await request(app).get(url()).set(NAVIGATE).expect(303);
      expect(res.headers.location).toBe(location);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(sessionCookie(res)).toBe(false);
      expect(logins).toEqual([]);
    });

    it('expired', async () => {
      const { access_token } = sso.issueTokens('usr-alice', { accessTokenTtl: 10 });
      clock.advance(11_000);
      const res = await request(app).get(`/launch?token=${access_token}`).set(NAVIGATE).expect(303);
      expect(res.headers.location).toBe('/login?returnTo=%2F');
      expect(sessionCookie(res)).toBe(false);
    });
  });

  it.each([
    [502, { type: 'status', status: 502 }],
    [503, { type: 'retCode', retCode: 5100 }],
    [504, { type: 'slow', delayMs: 3000 }],
  ] as const)('an SSO outage answers %d, with no token in any link', async (status, fault) => {
    const quick = make({ httpTimeout: 500 });
    const { access_token, refresh_token } = sso.issueTokens('usr-alice');
    sso.setFault('check_token', fault);
    try {
      const res = await request(quick)
        .get(`/page?access_token=${access_token}&refresh_token=${refresh_token!}`)
        .set(NAVIGATE);
      expect(res.status).toBe(status);
      expect(res.text).not.toContain(access_token);
      expect(res.text).not.toContain(refresh_token);
      expect(JSON.stringify(res.headers)).not.toContain(access_token);
      expect(sessionCookie(res)).toBe(false);
    } finally {
      sso.setFault('check_token', null);
    }
  });

  describe('already signed in', () => {
    it('as the same user: strips and goes on; newer tokens (with a refresh token) are adopted', async () => {
      const { cookie } = await signIn(app, sso);
      const { access_token, refresh_token } = sso.issueTokens('usr-alice');
      const res = await request(app)
        .get(`/page?a=1&access_token=${access_token}&refresh_token=${refresh_token!}`)
        .set('Cookie', cookie)
        .set(NAVIGATE)
        .expect(303);
      expect(res.headers.location).toBe('/page?a=1');
      expect(sessionCookie(res)).toBe(true);
      const adopted = cookiesFrom(setCookieOf(res), cookie);
      expect(await me(adopted)).toBe('usr-alice');
      // The adopted session holds the launch tokens: revoking them ends it, not the old cookie's.
      sso.revokeToken(access_token);
      sso.revokeToken(refresh_token!);
      clock.advance(301_000);
      expect(await me(adopted)).toBe(null);
      expect(await me(cookie)).toBe('usr-alice');
      expect(logins).toEqual([{ userId: 'usr-alice', entry: 'callback' }]);
    });

    it('as the same user, a console token without refresh token is not adopted over one with', async () => {
      const { cookie } = await signIn(app, sso);
      const { access_token } = sso.issueTokens('usr-alice', { refreshToken: false });
      const res = await request(app).get(`/launch?token=${access_token}`).set('Cookie', cookie).set(NAVIGATE);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/');
      expect(sessionCookie(res)).toBe(false);
      expect(await me(cookie)).toBe('usr-alice');
    });

    describe('as another user', () => {
      const launchAsBob = async (): Promise<{
        cookie: string;
        launched: request.Response;
        page: request.Response;
        tokens: string[];
      }> => {
        const signedIn = await signIn(app, sso);
        const { access_token, refresh_token } = sso.issueTokens('usr-bob');
        const url = `/reports?id=7&access_token=${access_token}&refresh_token=${refresh_token!}`;
        const { launched, page, cookie } = await launchOther(app, url, signedIn.cookie, {
          'Sec-Fetch-Site': 'cross-site',
        });
        return { cookie, launched, page, tokens: [access_token, refresh_token!] };
      };

      it('never switches silently: a confirmation page naming both accounts, without the tokens', async () => {
        const { cookie, launched, page, tokens } = await launchAsBob();
        // First out of the URL that carried the tokens (address bar, history), to the page.
        expect(launched.status).toBe(303);
        expect(launched.headers.location).toBe('/launch?confirm');
        expect(launched.headers['referrer-policy']).toBe('no-referrer');
        expect(sessionCookie(launched)).toBe(false);
        const confirmCookie = setCookieOf(launched).find((c) => c.startsWith('sso_session_launch='));
        expect(confirmCookie).toMatch(/; Max-Age=300; Path=\/launch; HttpOnly; SameSite=Lax/);
        for (const t of tokens) expect(confirmCookie).not.toContain(t);
        expect(page.status).toBe(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.headers['cache-control']).toBe('no-store');
        expect(page.headers['referrer-policy']).toBe('no-referrer');
        expect(page.headers['content-security-policy']).toContain("default-src 'none'");
        expect(page.headers['content-security-policy']).toContain("form-action 'self'");
        expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
        expect(page.headers['x-frame-options']).toBe('DENY');
        expect(page.text).toContain('alice');
        expect(page.text).toContain('bob');
        expect(page.text).toContain('<form method="post" action="/launch">');
        expect(page.text).toContain('href="/reports?id=7"');
        expect(page.text).not.toMatch(/<script|\son\w+=|style=/i);
        for (const t of tokens) expect(page.text).not.toContain(t);
        expect(sessionCookie(page)).toBe(false);
        expect(await me(cookie)).toBe('usr-alice');
      });

      it("the page's button (a same-origin POST) switches to the other account", async () => {
        const { cookie, page } = await launchAsBob();
        const res = await confirmSwitch(app, page, cookie).expect(303);
        expect(res.headers.location).toBe('/reports?id=7');
        expect(res.headers['cache-control']).toBe('no-store');
        const switched = cookiesFrom(setCookieOf(res), cookie);
        expect(switched).not.toContain('sso_session_launch=');
        expect(await me(switched)).toBe('usr-bob');
        // The previous session was logged out, not just overwritten.
        expect(await me(cookie)).toBe(null);
        expect(logins.at(-1)).toEqual({ userId: 'usr-bob', entry: 'launch-redirect' });
      });

      it('a cross-site POST is refused (403), the session kept', async () => {
        const { cookie, page } = await launchAsBob();
        const refused: Array<Record<string, string>> = [
          { 'Sec-Fetch-Site': 'cross-site' },
          { 'Sec-Fetch-Site': 'same-site' },
          { Origin: 'https://evil.test' },
          {},
        ];
        for (const headers of refused) {
          const res = await confirmSwitch(app, page, cookie, headers);
          expect(res.status).toBe(403);
          expect(sessionCookie(res)).toBe(false);
        }
        expect(await me(cookie)).toBe('usr-alice');
      });

      it('renders the switch page in Simplified Chinese for Accept-Language: zh-CN, same form', async () => {
        const signedIn = await signIn(app, sso);
        const { access_token, refresh_token } = sso.issueTokens('usr-bob');
        const url = `/reports?id=7&access_token=${access_token}&refresh_token=${refresh_token!}`;
        const zh = { 'Accept-Language': 'zh-CN,zh;q=0.9,en;q=0.5' };
        const { page, cookie } = await launchOther(app, url, signedIn.cookie, zh);
        expect(page.status).toBe(200);
        expect(page.headers['content-language']).toBe('zh-CN');
        expect(String(page.headers.vary)).toMatch(/Accept-Language/i);
        expect(page.headers['cache-control']).toBe('no-store');
        expect(page.headers['referrer-policy']).toBe('no-referrer');
        expect(page.headers['content-security-policy']).toContain("default-src 'none'");
        expect(page.headers['content-security-policy']).toContain("form-action 'self'");
        expect(page.headers['x-frame-options']).toBe('DENY');
        expect(page.text).toContain('<html lang="zh-CN">');
        expect(page.text).toContain('<title>切换账号？</title>');
        expect(page.text).toContain('<strong>alice (usr-alice)</strong>');
        expect(page.text).toContain('以 <strong>bob (usr-bob)</strong> 继续');
        expect(page.text).not.toMatch(/Switch account|signed in as/);
        expect(page.text).toContain('<form method="post" action="/launch">');
        const res = await confirmSwitch(app, page, cookie).expect(303);
        expect(await me(cookiesFrom(setCookieOf(res), cookie))).toBe('usr-bob');
      });

      it('answers its failures in the language too', async () => {
        const { cookie, page } = await launchAsBob();
        const zh = { 'Accept-Language': 'zh-CN' };
        const stale = await request(app).get('/launch?confirm').set(NAVIGATE).set(zh).expect(400);
        expect(stale.headers['content-language']).toBe('zh-CN');
        expect(stale.text).toContain('此账号切换已失效，请重新打开链接');
        const cross = await confirmSwitch(app, page, cookie, { 'Sec-Fetch-Site': 'cross-site', ...zh }).expect(403);
        expect(cross.body).toEqual({
          error: 'invalid_request',
          message: '已拒绝来自其他网站的账号切换，请重新打开链接',
        });
      });

      it('renderPage("switch-account", context) replaces the page: typed context, no token, same headers', async () => {
        const seen: Array<{ kind: string; context: unknown }> = [];
        const custom = make({
          renderPage: (kind, context) => {
            seen.push({ kind, context });
            if (kind !== 'switch-account') return undefined;
            const hidden = Object.entries(context.fields)
              .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
              .join('');
            return (
              `<!doctype html><title>${context.title}</title><p>${context.current.displayName} → ${context.next.displayName}</p>` +
              `<p>${context.message} ${context.detail}</p>` +
              `<form method="${context.method}" action="${context.action}">${hidden}<button>${context.submitLabel}</button></form>` +
              `<a href="${context.cancelUrl}">${context.cancelLabel}</a>`
            );
          },
        });
        const signedIn = await signIn(custom, sso);
        const { access_token, refresh_token } = sso.issueTokens('usr-bob');
        const url = `/reports?id=7&access_token=${access_token}&refresh_token=${refresh_token!}`;
        const { page, cookie } = await launchOther(custom, url, signedIn.cookie, { 'Accept-Language': 'zh-CN' });
        expect(page.status).toBe(200);
        expect(page.headers['cache-control']).toBe('no-store');
        expect(page.headers['referrer-policy']).toBe('no-referrer');
        expect(page.headers['content-security-policy']).toContain("default-src 'none'");
        expect(page.headers['x-frame-options']).toBe('DENY');
        expect(page.headers['content-language']).toBe('zh-CN');
        expect(page.text).toContain('<p>alice (usr-alice) → bob (usr-bob)</p>');
        expect(seen.map((s) => s.kind)).toEqual(['switch-account']);
        const context = seen[0]!.context as Record<string, unknown> & { fields: Record<string, string> };
        expect(context).toMatchObject({
          lang: 'zh-CN',
          status: 200,
          title: '切换账号？',
          current: { userId: 'usr-alice', name: 'alice', displayName: 'alice (usr-alice)' },
          next: { userId: 'usr-bob', name: 'bob', displayName: 'bob (usr-bob)' },
          action: '/launch',
          method: 'post',
          cancelUrl: '/reports?id=7',
          submitLabel: '以 bob (usr-bob) 继续',
        });
        expect(Object.keys(context.fields)).toEqual(['launch']);
        expect(Object.isFrozen(context)).toBe(true);
        // No token, session cookie or secret anywhere in it (the sealed field is encrypted).
        const scanned = JSON.stringify(context);
        const sessionValue = signedIn.cookie
          .split('; ')
          .find((c) => c.startsWith('sso_session='))!
          .split('=')[1]!;
        for (const secret of [access_token, refresh_token!, sessionValue, SECRET, CLIENT_SECRET])
          expect(scanned).not.toContain(secret);
        // The app's form posts the sealed field back unchanged: the switch goes through.
        const res = await confirmSwitch(custom, page, cookie).expect(303);
        expect(await me(cookiesFrom(setCookieOf(res), cookie))).toBe('usr-bob');
      });

      it('a forged, expired or foreign confirmation is refused (400), never a 500', async () => {
        const { cookie, page } = await launchAsBob();
        const fields = formFields(page.text);
        const post = (body: Record<string, string> | string, c = cookie): Promise<request.Response> =>
          request(app).post('/launch').type('form').send(body).set('Cookie', c).set(SAME_ORIGIN);
        for (const body of [
          {},
          { ...fields, launch: `${fields.launch!.slice(0, -2)}AA` },
          { launch: 'x' },
          'launch=a&launch=b',
          `launch=${'a'.repeat(20000)}`,
        ]) {
          const res = await post(body);
          expect(res.status).toBe(400);
          expect(sessionCookie(res)).toBe(false);
        }
        // Shown to alice's session: another browser (another session) cannot use it, nor see it.
        const other = await signIn(app, sso);
        expect((await post(fields, other.cookie)).status).toBe(400);
        const pending = cookie.split('; ').find((c) => c.startsWith('sso_session_launch='))!;
        const view = (c: string): Promise<request.Response> =>
          request(app).get('/launch?confirm').set('Cookie', c).set(NAVIGATE);
        expect((await view(`${other.cookie}; ${pending}`)).status).toBe(400);
        expect((await view(cookie.replace(pending, 'sso_session_launch=garbage'))).status).toBe(400);
        expect((await view(cookie.replace(pending, ''))).status).toBe(400);
        expect((await view(cookie)).status).toBe(200);
        clock.advance(6 * 60_000);
        expect((await post(fields)).status).toBe(400);
        expect(await me(cookie)).toBe('usr-alice');
      });
    });
  });

  it('a user `authorize` refuses: 403, no session, no token on the page', async () => {
    const strict = make({ authorize: (user) => user.user_id !== 'usr-bob' });
    const { access_token } = sso.issueTokens('usr-bob');
    const res = await request(strict).get(`/launch?token=${access_token}`).set(NAVIGATE).expect(403);
    expect(res.text).not.toContain(access_token);
    expect(sessionCookie(res)).toBe(false);
    expect(logins).toEqual([]);
  });

  it('under a base path: the launch route and the redirect keep the base path', async () => {
    const based = createTestApp(express, sso, { launch: true, clock, appBaseUrl: `${APP_BASE_URL}/base` });
    const a = sso.issueTokens('usr-alice');
    const res = await request(based).get(`/base/launch?token=${a.access_token}&returnTo=%2Freports`).set(NAVIGATE);
    expect([res.status, res.headers.location]).toEqual([303, '/base/reports']);
    const b = sso.issueTokens('usr-alice');
    const page = await request(based).get(`/base/docs?access_token=${b.access_token}&v=2`).set(NAVIGATE);
    expect([page.status, page.headers.location]).toEqual([303, '/base/docs?v=2']);
    const bad = await request(based).get('/base/launch?token=nope').set(NAVIGATE);
    expect([bad.status, bad.headers.location]).toEqual([303, '/base/login?returnTo=%2Fbase%2F']);
  });

  it('a login returnTo carrying launch tokens loses them (never in the transaction cookie)', async () => {
    const returnTo = encodeURIComponent('/x?access_token=abc&k=1');
    const login = await request(app).get(`/login?returnTo=${returnTo}`).expect(302);
    const cookie = cookiesFrom(setCookieOf(login));
    const authorize = await fetch(String(login.headers.location), { redirect: 'manual' });
    const back = new URL(authorize.headers.get('location')!);
    const cb = await request(app).get(`${back.pathname}${back.search}`).set('Cookie', cookie).expect(302);
    expect(cb.headers.location).toBe('/x?k=1');
  });

  it('a returnTo carrying tokens loses them too', async () => {
    const { access_token } = sso.issueTokens('usr-alice');
    const returnTo = encodeURIComponent('/x?access_token=abc&k=1&refresh_token=def');
    const res = await request(app).get(`/launch?token=${access_token}&returnTo=${returnTo}`).set(NAVIGATE);
    expect([res.status, res.headers.location]).toEqual([303, '/x?k=1']);
  });

  it('the confirmation works behind body parsers mounted before auth()', async () => {
    // express.json() alone (Express 4 sets req.body = {} without reading a form), then a form parser.
    const parsed = express();
    parsed.use(express.json());
    parsed.use(createTestApp(express, sso, { launch: true, clock }));
    const { cookie } = await signIn(parsed, sso);
    const { access_token } = sso.issueTokens('usr-bob');
    const { page, cookie: jar } = await launchOther(parsed, `/p?access_token=${access_token}`, cookie);
    expect(page.status).toBe(200);
    const res = await confirmSwitch(parsed, page, jar).expect(303);
    expect(await me(cookiesFrom(setCookieOf(res), cookie))).toBe('usr-bob');
  });

  describe('an unsolicited /callback?code= (no login in progress)', () => {
    it.each([
      ['code only', '/callback?code=abc'],
      ['code and an instance id', '/callback?code=abc&instance_id=i-123'],
      ['code and an unknown state', '/callback?code=abc&state=xyz'],
    ])('%s: not exchanged, a fresh sign-in to the home path', async (_label, url) => {
      sso.resetCounts();
      const res = await request(app).get(url).set(NAVIGATE).expect(302);
      expect(res.headers.location).toBe('/login');
      expect(sso.counts.token).toBe(0);
      expect(sessionCookie(res)).toBe(false);
    });
  });
});

describe('launch: tokens never leak', () => {
  let sso: Emulator;
  const clock = fakeClock(Date.now());
  const lines: string[] = [];
  const payloads: unknown[] = [];
  const originalLog = createDebug.log;
  let previousNamespaces: string;

  beforeAll(async () => {
    previousNamespaces = createDebug.disable();
    createDebug.enable('express-sso-guard*');
    createDebug.log = (...args: unknown[]) => void lines.push(format(...args));
    sso = await startTestEmulator({ clock });
  });
  afterAll(async () => {
    createDebug.log = originalLog;
    createDebug.disable();
    if (previousNamespaces) createDebug.enable(previousNamespaces);
    await sso.close();
  });

  it('in no Location, Set-Cookie, page, log line or event payload', async () => {
    const logger = {
      debug: (m: string) => void lines.push(m),
      info: (m: string) => void lines.push(m),
      warn: (m: string) => void lines.push(m),
      error: (m: string) => void lines.push(m),
    };
    const record = (e: unknown): void => void payloads.push(e);
    const app = createTestApp(EXPRESS_VERSIONS[1][1], sso, {
      launch: true,
      clock,
      logger,
      events: { login: record, logout: record, refresh: record, sessionEnd: record, ssoError: record },
    });
    const tokens: string[] = [];
    const issue = (user: string, opts = {}): { access_token: string; refresh_token?: string } => {
      const t = sso.issueTokens(user, opts);
      tokens.push(t.access_token, ...(t.refresh_token === undefined ? [] : [t.refresh_token]));
      return t;
    };
    const seen: string[] = [];
    const keep = (res: request.Response): request.Response => {
      seen.push(String(res.headers.location ?? ''), ...setCookieOf(res), res.text ?? '', JSON.stringify(res.headers));
      return res;
    };
    const a = issue('usr-alice');
    const first = keep(await request(app).get(`/launch?token=${a.access_token}&returnTo=%2Fx`).set(NAVIGATE));
    const cookie = cookiesFrom(setCookieOf(first));
    const b = issue('usr-bob');
    const other = await launchOther(app, `/p?access_token=${b.access_token}&refresh_token=${b.refresh_token!}`, cookie);
    keep(other.launched);
    const page = keep(other.page);
    keep(await confirmSwitch(app, page, cookie));
    keep(await confirmSwitch(app, page, cookie, {}));
    const c = issue('usr-alice', { accessTokenTtl: 5 });
    clock.advance(6000);
    keep(await request(app).get(`/launch?token=${c.access_token}`).set(NAVIGATE));
    keep(await request(app).get(`/q?access_token=${c.access_token}&access_token=${a.access_token}`).set(NAVIGATE));
    sso.setFault('check_token', { type: 'status', status: 503 });
    const d = issue('usr-bob');
    keep(await request(app).get(`/launch?token=${d.access_token}`).set(NAVIGATE));
    keep(await request(app).get(`/launch?token=${d.access_token}`));
    sso.setFault('check_token', null);

    expect(first.status).toBe(303);
    expect(page.status).toBe(200);
    expect(payloads.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('launch'))).toBe(true);
    const everything = [...seen, ...lines, ...payloads.map((p) => JSON.stringify(p))].join('\n');
    for (const t of tokens) expect(everything).not.toContain(t);
  });
});

describeRedis('launch with server-side sessions on Redis', () => {
  let sso: Emulator;
  let client: ReturnType<typeof createClient>;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    sso = await startTestEmulator();
    client = createClient({ url: REDIS_URL });
    await client.connect();
  });
  afterAll(async () => {
    await cleanPrefix(prefix);
    await client.quit();
    await sso.close();
  });

  it('keeps the launch tokens in the store, the cookie only a pointer; a switch works the same', async () => {
    const store = redisStore({ client, prefix });
    const app = createTestApp(EXPRESS_VERSIONS[1][1], sso, { launch: true, store, session: { serverSide: true } });
    const a = sso.issueTokens('usr-alice');
    const res = await request(app).get(`/launch?token=${a.access_token}`).set(NAVIGATE).expect(303);
    const cookie = cookiesFrom(setCookieOf(res));
    const me = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect((me.body as { user: { user_id: string } }).user.user_id).toBe('usr-alice');
    const stored = [...(await dumpPrefix(REDIS_URL, prefix)).values()];
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.join('\n')).not.toContain(a.access_token);

    const b = sso.issueTokens('usr-bob');
    const { page, cookie: jar } = await launchOther(app, `/p?access_token=${b.access_token}`, cookie);
    const sw = await confirmSwitch(app, page, jar).expect(303);
    const bob = await request(app)
      .get('/api/me')
      .set('Cookie', cookiesFrom(setCookieOf(sw), cookie))
      .expect(200);
    expect((bob.body as { user: { user_id: string } }).user.user_id).toBe('usr-bob');
    await request(app).get('/api/me').set('Cookie', cookie).expect(401);
    await store.close?.();
  });
});
