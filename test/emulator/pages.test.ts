/**
 * Issue 21 §2, emulator side: its sign-in, refused and console pages in English and Simplified
 * Chinese, chosen by `Accept-Language`, over real HTTP; every page keeps its CSP and no-store.
 */
import { startEmulator, type Emulator } from '../../lib/testing';
import { EMULATOR_TEXT } from '../../lib/emulator/strings';

const CALLBACK = 'http://localhost:3000/callback';
const authorize = `/sso/oauth2/?${new URLSearchParams({ client_id: 'example-client', response_type: 'code', redirect_uri: CALLBACK, state: 's1' })}`;

describe('emulator pages in two languages', () => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startEmulator({ console: { authUrl: 'http://127.0.0.1:9/launch' } });
  });
  afterAll(() => sso.close());

  async function get(path: string, language?: string): Promise<{ res: Response; text: string }> {
    const res = await fetch(`${sso.url}${path}`, {
      headers: language === undefined ? {} : { 'accept-language': language },
    });
    return { res, text: await res.text() };
  }

  function expectPage(res: Response, lang: string): void {
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-language')).toBe(lang);
    expect(res.headers.get('vary')).toMatch(/Accept-Language/i);
  }

  it('the sign-in page in Simplified Chinese for Accept-Language: zh-CN, the same form', async () => {
    const { res, text } = await get(authorize, 'zh-CN,zh;q=0.9,en;q=0.8');
    expect(res.status).toBe(200);
    expectPage(res, 'zh-CN');
    expect(text).toContain('<html lang="zh-CN">');
    expect(text).toContain('<title>登录 · SSO 模拟器</title>');
    expect(text).toContain('<h1>登录</h1>');
    expect(text).toContain('登录到 <strong>example-client</strong>，然后返回 <code>http://localhost:3000</code>');
    expect(text).toContain('<legend>选择用户</legend>');
    expect(text).toContain('<button type="submit" id="sign-in" name="action" value="approve">登录</button>');
    expect(text).toContain('value="cancel" class="secondary">取消</button>');
    expect(text).toContain('<input type="hidden" name="state" value="s1">');
    expect(text).not.toMatch(/Sign in|Choose a user|Cancel/);
  });

  it('the sign-in page in English without the header, or for a language it does not have', async () => {
    for (const language of [undefined, 'fr', 'zh-TW', 'zh;q=0, en']) {
      const { res, text } = await get(authorize, language);
      expectPage(res, 'en');
      expect(text).toContain('<html lang="en">');
      expect(text).toContain('<h1>Sign in</h1>');
      expect(text).toContain('to <strong>example-client</strong>, then back to <code>http://localhost:3000</code>');
    }
  });

  it('the refused page in the language (its technical detail as is)', async () => {
    const { res, text } = await get('/sso/oauth2/?client_id=nope&response_type=code', 'zh');
    expect(res.status).toBe(400);
    expectPage(res, 'zh-CN');
    expect(text).toContain('<h1>登录请求被拒绝</h1>');
    expect(text).toContain('400: unknown client_id');
  });

  it('the console page in both languages', async () => {
    const zh = await get('/console', 'zh-CN');
    expectPage(zh.res, 'zh-CN');
    expect(zh.text).toContain('<h1>控制台</h1>');
    expect(zh.text).toContain('<button type="submit" name="mode" value="auth">从控制台打开</button>');
    expect(zh.text).toContain('title="请设置模拟器的 console.appUrl 选项">SaaS 跳转</button>');
    expect(zh.text).toContain('<em>未设置</em>');
    const en = await get('/console', 'en-US');
    expectPage(en.res, 'en');
    expect(en.text).toContain('<h1>Console</h1>');
    expect(en.text).toContain('>Open from the console</button>');
    expect(en.text).toContain('title="set the emulator&#39;s console.appUrl option">SaaS redirect</button>');
  });

  it('its strings table has the same words in both languages', () => {
    const shape = (o: object): unknown =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'object' ? shape(v) : typeof v]));
    expect(shape(EMULATOR_TEXT['zh-CN'])).toEqual(shape(EMULATOR_TEXT.en));
  });
});
