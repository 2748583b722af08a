import type { Emulator } from '../../lib/testing';
import { resolveConfig } from '../../lib/config';
import { EXPRESS_VERSIONS, createTestApp, startTestEmulator } from '../helpers/app';
import { CookieJar } from '../helpers/cookie-jar';
import { testOptions } from '../helpers/options';
import { serve, type Served } from '../helpers/serve';

// Issue 20, section 3: `session.name: '__Host-…'` (no cookie tossing from a sibling subdomain).
// Browsers drop a `__Host-` cookie unless it is Secure, has Path=/ and no Domain; the jar does too.

const HTTPS_APP = 'https://app.test';

describe.each(EXPRESS_VERSIONS)('session.name with the __Host- prefix (%s)', (_name, express) => {
  let sso: Emulator;
  let served: Served;
  const lines: string[] = [];

  beforeAll(async () => {
    sso = await startTestEmulator({ redirectUris: [`${HTTPS_APP}/callback`] });
    served = await serve(createTestApp(express, sso, { appBaseUrl: HTTPS_APP, session: { name: '__Host-sso' } }));
  });
  afterAll(async () => {
    await served.close();
    await sso.close();
  });

  async function get(jar: CookieJar, path: string, headers: Record<string, string> = {}) {
    const cookie = jar.header(path);
    const res = await served.get(path, { ...headers, ...(cookie ? { cookie } : {}) });
    lines.push(...res.setCookie);
    jar.store(res.setCookie);
    return res;
  }

  it('signs in, keeps two logins apart, and signs out, every cookie a valid __Host- cookie', async () => {
    const jar = new CookieJar();
    const starts = [await get(jar, '/login?returnTo=/a'), await get(jar, '/login?returnTo=/b')];
    for (const [i, start] of starts.entries()) {
      const back = new URL((await fetch(start.headers.location!, { redirect: 'manual' })).headers.get('location')!);
      const cb = await get(jar, back.pathname + back.search, { accept: 'application/json' });
      expect({ status: cb.status, location: cb.headers.location }).toEqual({ status: 302, location: ['/a', '/b'][i] });
    }
    const me = await get(jar, '/api/me');
    expect(JSON.parse(me.body).authenticated).toBe(true);
    const out = await get(jar, '/logout', { 'sec-fetch-site': 'same-origin' });
    expect(out.status).toBe(302);
    expect(jar.names()).toEqual([]);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line).toMatch(/^__Host-sso/);
      expect(line).toMatch(/; Path=\/;/);
      expect(line).toMatch(/; Secure/);
      expect(line).not.toMatch(/Domain=/i);
    }
  });
});

describe('cookie name prefixes in the options', () => {
  it.each([
    [{ appBaseUrl: 'http://app.test', session: { name: '__Host-sso' } }, /"session.name".*https/],
    [{ appBaseUrl: 'https://app.test', session: { name: '__Host-sso', domain: 'app.test' } }, /"session.domain"/],
    [{ appBaseUrl: 'http://app.test', session: { name: '__Secure-sso' } }, /"session.name".*https/],
  ])('refuses what a browser would drop: %j', (options, message) => {
    expect(() => resolveConfig(testOptions(options), {})).toThrow(message);
  });

  it('a __Host- session cookie has Path=/ even under a base path', () => {
    const c = resolveConfig(testOptions({ appBaseUrl: 'https://app.test/base', session: { name: '__Host-sso' } }), {});
    expect(c.cookiePath).toBe('/');
    expect(resolveConfig(testOptions({ appBaseUrl: 'https://app.test/base' }), {}).cookiePath).toBe('/base');
  });
});
