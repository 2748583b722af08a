import { sessionCookieFor } from '../helpers/parts';
import request from 'supertest';
import type { Emulator } from '../../lib/testing';
import { auth } from '../../lib/express/middleware';
import { memoryStore } from '../../lib/store/memory';
import type { SsoStore } from '../../lib/store/types';
import type { SsoGuardOptions } from '../../lib/options';
import {
  APP_BASE_URL,
  EXPRESS_VERSIONS,
  cookiesFrom,
  setCookieOf,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { fakeClock, type FakeClock } from '../helpers/clock';
import { CLIENT_ID, CLIENT_SECRET, SECRET, testOptions } from '../helpers/options';
import { openSession } from '../helpers/session';
import { Shared, type SharedEvent } from '../../lib/store/shared-store';

/** A store that records every value written, and can be made to fail or hang. */
function recordingStore(inner: SsoStore) {
  const written: string[] = [];
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> => {
      if (mode === 'fail') return Promise.reject(new Error('connection lost'));
      if (mode === 'hang') return new Promise(() => undefined);
      return fn(...a);
    };
  const store: SsoStore = {
    get: wrap((k: string) => inner.get(k)),
    set: wrap((k: string, v: string, ttl: number, nx?: boolean) => {
      written.push(`${k}=${v}`);
      return inner.set(k, v, ttl, nx);
    }),
    delete: wrap((k: string) => inner.delete(k)),
    deleteIfEquals: wrap((k: string, v: string) => inner.deleteIfEquals(k, v)),
    publish: wrap((m: string) => inner.publish(m)),
    subscribe: (l) => inner.subscribe(l),
  };
  return { store: Object.assign(store, { timeout: 100 }), written, setMode: (m: typeof mode) => (mode = m) };
}

describe.each(EXPRESS_VERSIONS)('shared store (two instances in one process, memoryStore, %s)', (_name, express) => {
  let sso: Emulator;
  let clock: FakeClock;

  beforeAll(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock, accessTokenTtl: 600 });
  });
  afterAll(() => sso.close());
  beforeEach(() => sso.resetCounts());

  function instance(store: SsoStore, options: SsoGuardOptions = {}) {
    const app = (express as ExpressFactory)();
    const mw = auth({
      ssoBaseUrl: sso.url,
      appBaseUrl: APP_BASE_URL,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secret: SECRET,
      clock,
      store,
      ...options,
    });
    app.use(mw);
    app.get('/api/me', (req, res) => res.json({ user: req.sso.user, credentials: req.sso.credentials }));
    return Object.assign(app, { mw });
  }

  it('shares the check_token cache: one call for the first request on every instance', async () => {
    const rec = recordingStore(memoryStore({ clock }));
    const [a, b, c] = [instance(rec.store), instance(rec.store), instance(rec.store)];
    const { cookie } = await signIn(a, sso);
    sso.resetCounts();
    for (const app of [a, b, c]) await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(sso.counts.check_token).toBe(1);
  });

  it('refreshes ONCE for 300 concurrent requests spread over three instances; the old cookie still works later', async () => {
    const rec = recordingStore(memoryStore({ clock }));
    const apps = [instance(rec.store), instance(rec.store), instance(rec.store)];
    const { cookie } = await signIn(apps[0]!, sso);
    clock.advance(601_000);
    sso.resetCounts();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        request(apps[i % 3]!)
          .get('/api/me')
          .set('Cookie', cookie),
      ),
    );
    expect(results.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([]);
    expect(sso.counts.refresh_token).toBe(1);
    clock.advance(5_000);
    for (const app of apps) await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(sso.counts.refresh_token).toBe(1);
  });

  it('revokes a logged-out session on every instance, including their first-level caches', async () => {
    const rec = recordingStore(memoryStore({ clock }));
    const [a, b] = [instance(rec.store), instance(rec.store)];
    await Promise.all([a.mw.ready, b.mw.ready]);
    const { cookie } = await signIn(a, sso);
    await request(a).get('/api/me').set('Cookie', cookie).expect(200);
    await request(b).get('/api/me').set('Cookie', cookie).expect(200);
    await request(b).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', cookie).expect(302);
    await new Promise((r) => setImmediate(r));
    await request(a).get('/api/me').set('Cookie', cookie).expect(401);
    // An instance that never saw the event (started later) reads the denylist from the store.
    await request(instance(rec.store)).get('/api/me').set('Cookie', cookie).expect(401);
  });

  it('keeps no credential in clear in the store', async () => {
    const rec = recordingStore(memoryStore({ clock }));
    const [a, b] = [instance(rec.store), instance(rec.store)];
    const { cookie } = await signIn(a, sso);
    const me = await request(a).get('/api/me').set('Cookie', cookie).expect(200);
    clock.advance(601_000);
    const refreshed = await request(b).get('/api/me').set('Cookie', cookie).expect(200);
    const secrets = [
      openSession(cookie).accessToken,
      openSession(cookie).refreshToken!,
      openSession(cookiesFrom(setCookieOf(refreshed))).accessToken,
      me.body.credentials.secretKey,
      me.body.credentials.token,
      me.body.credentials.accessKey,
    ];
    expect(rec.written.length).toBeGreaterThan(2);
    for (const line of rec.written) for (const s of secrets) expect(line).not.toContain(s);
  });

  it.each(['fail', 'hang'] as const)(
    'falls back to in-process behaviour when the store calls %s, counts it, and recovers',
    async (mode) => {
      const rec = recordingStore(memoryStore({ clock }));
      const a = instance(rec.store);
      const { cookie } = await signIn(a, sso);
      rec.setMode(mode);
      const started = Date.now();
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      expect(Date.now() - started).toBeLessThan(1000);
      clock.advance(601_000);
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      expect(a.mw.storeStats).toMatchObject({ available: false, fallbacks: 1 });
      expect(a.mw.storeStats!.failures).toBeGreaterThan(0);
      rec.setMode('ok');
      await new Promise((r) => setTimeout(r, 1100));
      const b = instance(rec.store);
      const { cookie: c2 } = await signIn(b, sso);
      await request(b).get('/api/me').set('Cookie', c2).expect(200);
      sso.resetCounts();
      await request(a).get('/api/me').set('Cookie', c2).expect(200);
      expect(sso.counts.check_token).toBe(0);
      expect(a.mw.storeStats!.available).toBe(true);
    },
  );

  describe('server-side sessions (session.serverSide)', () => {
    const serverSide = (store: SsoStore) => instance(store, { session: { serverSide: true } });
    it('keeps only a session id in the cookie and the encrypted tokens in the store', async () => {
      const rec = recordingStore(memoryStore({ clock }));
      const a = serverSide(rec.store);
      const { cookie } = await signIn(a, sso);
      expect(cookie.length).toBeLessThan(200);
      const pointer = sessionCookieFor({ store: rec.store, session: { serverSide: true } }).read(cookie);
      expect(pointer.data).toBeUndefined();
      expect(Object.keys(pointer.pointer!).sort()).toEqual(['createdAt', 'id', 'touchedAt']);
      const stored = rec.written.find((w) => w.startsWith(`session:${pointer.pointer!.id}=`));
      expect(stored).toBeDefined();
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
    });

    it('serves the session on another instance, refreshes it once for every holder, and logs it out everywhere', async () => {
      const rec = recordingStore(memoryStore({ clock }));
      const [a, b] = [serverSide(rec.store), serverSide(rec.store)];
      await Promise.all([a.mw.ready, b.mw.ready]);
      const { cookie } = await signIn(a, sso);
      await request(b).get('/api/me').set('Cookie', cookie).expect(200);
      clock.advance(601_000);
      sso.resetCounts();
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      // The same cookie, on the other instance, uses the refreshed tokens from the store.
      await request(b).get('/api/me').set('Cookie', cookie).expect(200);
      expect(sso.counts.refresh_token).toBe(1);
      await request(b).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', cookie).expect(302);
      await new Promise((r) => setImmediate(r));
      const id = sessionCookieFor({ store: rec.store, session: { serverSide: true } }).read(cookie).pointer!.id;
      expect(await rec.store.get(`session:${id}`)).toBeUndefined();
      await request(a).get('/api/me').set('Cookie', cookie).expect(401);
      await request(serverSide(rec.store)).get('/api/me').set('Cookie', cookie).expect(401);
    });

    it('answers 503 (session kept) where the store is down and the session is not cached locally', async () => {
      const rec = recordingStore(memoryStore({ clock }));
      const [a, b] = [serverSide(rec.store), serverSide(rec.store)];
      const { cookie } = await signIn(a, sso);
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      rec.setMode('fail');
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      const res = await request(b).get('/api/me').set('Cookie', cookie).expect(503);
      expect(res.headers['set-cookie']).toBeUndefined();
      rec.setMode('ok');
    });

    it('requires a store', () => {
      expect(() =>
        auth({
          ssoBaseUrl: sso.url,
          appBaseUrl: APP_BASE_URL,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          secret: SECRET,
          session: { serverSide: true },
        }),
      ).toThrow('"session.serverSide" must be used with a "store"');
    });
  });
});

describe('pub/sub messages are sealed (issue 20)', () => {
  const HOUR = 3_600_000;
  const settle = () => new Promise((r) => setTimeout(r, 20));

  async function listening(store: SsoStore, maxLifetimeMs = 24 * HOUR, now = () => 1_800_000_000_000) {
    const got: SharedEvent[] = [];
    const shared = new Shared(store, [SECRET], undefined, { clock: now, maxLifetimeMs });
    await shared.subscribe((e) => void got.push(e));
    return { shared, got };
  }

  it('an instance hears what another with the same secret publishes; the wire shows no session id', async () => {
    const store = memoryStore();
    const wire: string[] = [];
    await store.subscribe((m) => void wire.push(m));
    const { got } = await listening(store);
    const other = new Shared(store, [SECRET]);
    await other.publish({ kind: 'revoke', sessionId: 'sid-1', until: 1_800_000_000_000 + HOUR });
    await other.publish({ kind: 'drop', hash: 'h1' });
    await settle();
    expect(got).toEqual([
      { kind: 'revoke', sessionId: 'sid-1', until: 1_800_000_000_000 + HOUR },
      { kind: 'drop', hash: 'h1' },
    ]);
    expect(wire.join()).not.toContain('sid-1');
  });

  it('ignores a raw PUBLISH and one sealed with another secret', async () => {
    const store = memoryStore();
    const { got } = await listening(store);
    await store.publish('r sid-1 99999999999999');
    await store.publish('d h1');
    await new Shared(store, ['another-secret-of-at-least-32-chars!!']).publish({
      kind: 'revoke',
      sessionId: 'sid-1',
      until: 1,
    });
    await settle();
    expect(got).toEqual([]);
  });

  it('caps `until` at the longest session lifetime from now', async () => {
    const store = memoryStore();
    const { got } = await listening(store, 7 * 24 * HOUR);
    await new Shared(store, [SECRET]).publish({ kind: 'revoke', sessionId: 'sid-1', until: 1_800_000_000_000 + 1e12 });
    await settle();
    expect(got).toEqual([{ kind: 'revoke', sessionId: 'sid-1', until: 1_800_000_000_000 + 7 * 24 * HOUR }]);
  });
});

describe.each(EXPRESS_VERSIONS)('a forged PUBLISH against a running auth() (%s)', (_name, express) => {
  it('does not sign the user out', async () => {
    const sso = await startTestEmulator();
    try {
      const store = memoryStore();
      const app = (express as ExpressFactory)();
      const mw = auth(testOptions({ ssoBaseUrl: sso.url, store }));
      await mw.ready;
      app.use(mw);
      app.get('/api/me', (req, res) => res.json({ user: req.sso.user.user_id }));
      const { cookie } = await signIn(app, sso);
      await store.publish(`r ${openSession(cookie).id} 99999999999999`);
      await new Promise((r) => setTimeout(r, 20));
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    } finally {
      await sso.close();
    }
  });
});
