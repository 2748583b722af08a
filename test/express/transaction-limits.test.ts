import type { Emulator } from '../../lib/testing';
import { EXPRESS_VERSIONS, createTestApp, startTestEmulator } from '../helpers/app';
import { CookieJar } from '../helpers/cookie-jar';
import { serve, type Served } from '../helpers/serve';

// Another site starting many logins (each with a long returnTo) must not
// pile up transaction cookies until the victim's /callback request is refused by Node (431).

/** The bound this test holds the transaction cookies of a /callback request to (bytes). */
const TXN_COOKIE_BOUND = 4096;
const CROSS_SITE = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' };

describe.each(EXPRESS_VERSIONS)('transaction cookie limits (%s)', (_name, express) => {
  let sso: Emulator;
  let served: Served;

  beforeAll(async () => {
    sso = await startTestEmulator();
    served = await serve(createTestApp(express, sso));
  });
  afterAll(async () => {
    await served.close();
    await sso.close();
  });

  /** A browser's /login: sends the jar's cookies for /login, stores what comes back. */
  async function login(jar: CookieJar, returnTo: string, headers: Record<string, string> = {}): Promise<URL> {
    const path = `/login?returnTo=${encodeURIComponent(returnTo)}`;
    const cookie = jar.header(path);
    const res = await served.get(path, { ...headers, ...(cookie ? { cookie } : {}) });
    expect(res.status).toBe(302);
    jar.store(res.setCookie);
    return new URL(res.headers.location!);
  }

  it('ten cross-site login starts with long returnTo, then a normal sign-in works; the callback request stays small', async () => {
    const jar = new CookieJar();
    for (let i = 0; i < 10; i++) await login(jar, `/${String(i).repeat(2000)}`, CROSS_SITE);
    const authorize = await login(jar, '/profile');
    const approved = await fetch(authorize, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    const callbackPath = back.pathname + back.search;
    const cookie = jar.header(callbackPath);
    const cb = await served.get(callbackPath, { cookie });
    expect(cb.status).toBe(302); // before the fix: 431 Request Header Fields Too Large
    expect(Buffer.byteLength(cookie)).toBeLessThan(TXN_COOKIE_BOUND);
    expect(cookie.split('; ').filter((c) => c.startsWith('sso_session_txn.')).length).toBeLessThanOrEqual(4);
    expect(cb.headers.location).toBe('/profile');
    jar.store(cb.setCookie);
    const me = await served.get('/api/me', { cookie: jar.header('/api/me') });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body).authenticated).toBe(true);
  });

  it('two logins started at the same moment (same Cookie header: a restored session, two reloaded tabs) both complete', async () => {
    const jar = new CookieJar();
    // An earlier login in progress, so the slot index is not empty either.
    await login(jar, '/earlier');
    const cookie = jar.header('/login');
    const started = await Promise.all(
      ['/tab-a', '/tab-b'].map((r) => served.get(`/login?returnTo=${encodeURIComponent(r)}`, cookie ? { cookie } : {})),
    );
    for (const res of started) jar.store(res.setCookie);
    const callbacks: string[] = [];
    for (const res of started) {
      const back = new URL((await fetch(res.headers.location!, { redirect: 'manual' })).headers.get('location')!);
      callbacks.push(back.pathname + back.search);
    }
    for (const [i, path] of callbacks.entries()) {
      const cb = await served.get(path, { cookie: jar.header('/callback'), accept: 'application/json' });
      expect({ status: cb.status, location: cb.headers.location }).toEqual({
        status: 302,
        location: ['/tab-a', '/tab-b'][i],
      });
      jar.store(cb.setCookie);
    }
  });

  it('a returnTo too long for the transaction cookie is replaced by the home page; a normal one is kept', async () => {
    const jar = new CookieJar();
    const long = `/${'a'.repeat(600)}`;
    const res = await served.get(`/login?returnTo=${encodeURIComponent(long)}`);
    const txn = res.setCookie.find((c) => c.startsWith('sso_session_txn.'))!;
    expect(txn.length).toBeLessThan(1000);
    jar.store(res.setCookie);
    const back = new URL(
      (await fetch(new URL(res.headers.location!), { redirect: 'manual' })).headers.get('location')!,
    );
    const cb = await served.get(back.pathname + back.search, { cookie: jar.header(back.pathname) });
    expect(cb.headers.location).toBe('/');
  });

  it('keeps up to four logins in progress apart (tabs), dropping the oldest for a fifth', async () => {
    const jar = new CookieJar();
    const starts: URL[] = [];
    for (let i = 0; i < 5; i++) starts.push(await login(jar, `/tab${i}`));
    const callbacks: string[] = [];
    for (const authorize of starts) {
      const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
      callbacks.push(back.pathname + back.search);
    }
    // The oldest (tab 0) was dropped: its callback is refused, with no session.
    const first = await served.get(callbacks[0]!, { cookie: jar.header('/callback'), accept: 'application/json' });
    expect(first.status).toBe(400);
    // The four others complete, in any order.
    for (const i of [3, 1, 4, 2]) {
      const cb = await served.get(callbacks[i]!, { cookie: jar.header('/callback') });
      expect(cb.status).toBe(302);
      expect(cb.headers.location).toBe(`/tab${i}`);
      jar.store(cb.setCookie);
    }
    // Every transaction cookie and the slot index are gone once no login is in progress.
    expect(jar.names().filter((n) => n.startsWith('sso_session_txn'))).toEqual([]);
  });
});
