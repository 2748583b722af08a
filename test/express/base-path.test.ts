import express5 from 'express';
import type { RequestHandler } from 'express';
import type { Emulator } from '../../lib/testing';
import { auth } from '../../lib/express/middleware';
import { requestPaths, routePath } from '../../lib/express/base-path';
import { EXPRESS_VERSIONS, startTestEmulator, type ExpressFactory } from '../helpers/app';
import { CookieJar } from '../helpers/cookie-jar';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';
import { serve, type Served } from '../helpers/serve';

// `appBaseUrl` with a path (`http://app.test/base`) used to loop on
// `/base/login`. Routes, cookie paths and returnTo honour the base path, both when the app sees
// the full path and when a proxy strips the prefix.

const BASE_URL = 'http://app.test/base';
const NAV = { 'Sec-Fetch-Mode': 'navigate', Accept: 'text/html' };

const echo: RequestHandler = (req, res) => {
  res.json({ authenticated: req.sso.isAuthenticated(), user: req.sso.user?.user_id ?? null });
};

function makeApp(express: ExpressFactory, sso: Emulator, layout: 'full' | 'mounted' | 'stripped') {
  const app = express();
  const guard = auth({
    ssoBaseUrl: sso.url,
    appBaseUrl: BASE_URL,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    secret: SECRET,
  });
  if (layout === 'full') {
    app.use(guard);
    app.get('/base/page', echo);
    app.get('/base/api/me', echo);
  } else if (layout === 'mounted') {
    const sub = express.Router();
    sub.use(guard);
    sub.get('/page', echo);
    sub.get('/api/me', echo);
    app.use('/base', sub);
  } else {
    app.use(guard);
    app.get('/page', echo);
    app.get('/api/me', echo);
  }
  return app;
}

describe.each(EXPRESS_VERSIONS)('appBaseUrl with a base path (%s)', (_name, express) => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator({ redirectUris: [`${BASE_URL}/callback`] });
  });
  afterAll(() => sso.close());

  describe.each([
    ['the app sees /base/... (auth() at the root)', 'full'],
    ['the app sees /base/... (mounted with app.use("/base", router))', 'mounted'],
    ['a proxy strips /base', 'stripped'],
  ] as const)('%s', (_label, layout) => {
    let served: Served;
    beforeAll(async () => {
      served = await serve(makeApp(express as unknown as typeof express5, sso, layout));
    });
    afterAll(() => served.close());

    /** What the app receives for a browser-visible path. */
    const toApp = (visible: string): string =>
      layout === 'stripped' ? visible.replace(/^\/base/, '') || '/' : visible;
    const get = (jar: CookieJar, visible: string, headers: Record<string, string> = {}) => {
      const cookie = jar.header(visible);
      return served.get(toApp(visible), { ...headers, ...(cookie ? { cookie } : {}) });
    };

    it('a signed-out page goes to /base/login, which goes to the SSO (no loop), and back to the page signed in', async () => {
      const jar = new CookieJar();
      const first = await get(jar, '/base/page', NAV);
      expect(first.status).toBe(302);
      expect(first.headers.location).toBe('/base/login?returnTo=%2Fbase%2Fpage');

      const login = await get(jar, first.headers.location!, NAV);
      expect(login.status).toBe(302);
      const authorize = new URL(login.headers.location!);
      expect(`${authorize.origin}${authorize.pathname}`).toBe(`${sso.url}/sso/oauth2/`);
      expect(authorize.searchParams.get('redirect_uri')).toBe(`${BASE_URL}/callback`);
      expect(login.setCookie.find((c) => c.startsWith('sso_session_txn.'))).toMatch(/; Path=\/base\/callback;/);
      jar.store(login.setCookie);

      const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
      expect(back.pathname).toBe('/base/callback');
      const cb = await get(jar, back.pathname + back.search);
      expect(cb.status).toBe(302);
      expect(cb.headers.location).toBe('/base/page');
      expect(cb.setCookie.find((c) => c.startsWith('sso_session='))).toMatch(/; Path=\/base;/);
      jar.store(cb.setCookie);

      const page = await get(jar, '/base/page', NAV);
      expect(page.status).toBe(200);
      expect(JSON.parse(page.body).authenticated).toBe(true);

      const out = await get(jar, '/base/logout', { 'Sec-Fetch-Site': 'same-origin' });
      expect(out.status).toBe(302);
      expect(out.headers.location).toBe('/base/');
      jar.store(out.setCookie);
      expect((await get(jar, '/base/api/me')).status).toBe(401);
    });

    it('a returnTo outside the base path is put under it; one inside is kept', async () => {
      const jar = new CookieJar();
      for (const [asked, expected] of [
        ['/profile', '/base/profile'],
        ['/base/x?y=1', '/base/x?y=1'],
      ] as const) {
        const login = await get(jar, `/base/login?returnTo=${encodeURIComponent(asked)}`);
        jar.store(login.setCookie);
        const back = new URL(
          (await fetch(new URL(login.headers.location!), { redirect: 'manual' })).headers.get('location')!,
        );
        const cb = await get(jar, back.pathname + back.search);
        expect(cb.headers.location).toBe(expected);
      }
    });
  });
});

describe('routePath (the per-request route, without the pair)', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['/login', undefined, ''],
    ['/api/me?x=1', undefined, ''],
    ['/', '/mounted/', ''],
    ['/base/login?returnTo=/x', undefined, '/base'],
    ['/login', '/base/login', '/base'],
    ['/other', undefined, '/base'],
    ['/base', undefined, '/base'],
  ];
  it.each(cases)('%s (originalUrl %s, base "%s") routes as requestPaths does', (url, originalUrl, basePath) => {
    const req = { url, originalUrl } as Parameters<typeof routePath>[0];
    expect(routePath(req, basePath)).toBe(requestPaths(req, basePath).route);
  });

  it('is req.url itself with no base path and no query', () => {
    const url = `/api/${'x'.repeat(20)}`;
    expect(routePath({ url } as Parameters<typeof routePath>[0], '')).toBe(url);
  });
});
