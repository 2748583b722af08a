/**
 * Store outages lose nothing. Two instances (separate in-process caches, each
 * with its own Redis connections) reach the real Redis through a TCP proxy that the test cuts
 * (every connection destroyed, new ones refused: writes are really lost) and restores.
 */
import express from 'express';
import request from 'supertest';
import { createClient } from 'redis';
import type { Emulator } from '../../lib/testing';
import { auth, type SsoGuardMiddleware } from '../../lib/express/middleware';
import { redisStore } from '../../lib/store/redis';
import type { SsoGuardOptions } from '../../lib/options';
import { APP_BASE_URL, cookiesFrom, setCookieOf, signIn, startTestEmulator } from '../helpers/app';
import { fakeClock, type FakeClock } from '../helpers/clock';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';
import { REDIS_URL, cleanPrefix, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/eventually';

jest.setTimeout(30_000);

type App = express.Express & { mw: SsoGuardMiddleware };

describeRedis('store outages lose nothing (real Redis behind a TCP proxy that is cut and restored)', () => {
  let sso: Emulator;
  let clock: FakeClock;
  let proxy: TcpProxy;
  const prefix = uniquePrefix();
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock, accessTokenTtl: 600 });
    const url = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
  });
  afterAll(async () => {
    proxy.restore();
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await proxy.close();
    await sso.close();
    await cleanPrefix(prefix);
  });
  beforeEach(() => {
    proxy.restore();
    sso.resetCounts();
  });

  /** One instance, with its own Redis client through the proxy (reconnecting every 100 ms). */
  async function instance(options: SsoGuardOptions = {}, localTtl?: number): Promise<App> {
    const client = createClient({
      url: proxy.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 100, connectTimeout: 500 },
    });
    client.on('error', () => undefined);
    await client.connect();
    const mw = auth({
      ssoBaseUrl: sso.url,
      appBaseUrl: APP_BASE_URL,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secret: SECRET,
      clock,
      store: redisStore({ client, prefix, timeout: 200, localTtl }),
      ...options,
    });
    await mw.ready;
    closers.push(
      () => client.quit(),
      () => mw.close(),
    );
    const app = express();
    app.use(mw);
    app.get('/api/me', (req, res) => res.json({ user: req.sso.user?.user_id ?? null }));
    return Object.assign(app, { mw });
  }

  const me = (app: App, cookie: string) => request(app).get('/api/me').set('Cookie', cookie);
  const cut = async () => {
    proxy.cut();
    await new Promise((r) => setTimeout(r, 100));
  };

  it('(a) a logout made while the store is unreachable reaches the other instance within seconds of its return', async () => {
    const [a, b] = [await instance(), await instance()];
    const { cookie } = await signIn(a, sso);
    await me(a, cookie).expect(200);
    await me(b, cookie).expect(200);

    await cut();
    await request(a).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', cookie).expect(302);
    await me(a, cookie).expect(401);
    expect(a.mw.storeStats!.queued).toBeGreaterThan(0);
    // Still unreachable: the queued logout is retried on a timer, and stays queued.
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.mw.storeStats!.queued).toBeGreaterThan(0);

    proxy.restore();
    const restored = Date.now();
    // No request on a: its timer writes and publishes the logout.
    expect(await eventually(async () => (await me(b, cookie)).status === 401, 5000)).toBe(true);
    expect(Date.now() - restored).toBeLessThan(5000);
    expect(await eventually(() => a.mw.storeStats!.queued === 0, 3000)).toBe(true);
    // Written to the store, not only published: an instance started afterwards refuses it too.
    await me(await instance(), cookie).expect(401);
  });

  it('(b) two instances refreshing one session while the store is down: the refused one keeps the cookie (503), then it recovers', async () => {
    const [a, b] = [await instance(), await instance()];
    const { cookie } = await signIn(a, sso);
    await me(a, cookie).expect(200);
    await me(b, cookie).expect(200);
    clock.advance(601_000);
    sso.resetCounts();

    await cut();
    const first = await me(a, cookie).expect(200);
    const rotated = cookiesFrom(setCookieOf(first), cookie);
    expect(rotated).not.toBe(cookie);
    // b, uncoordinated, presents the refresh token a just rotated: the SSO refuses it.
    const second = await me(b, cookie);
    expect(sso.counts.refresh_token).toBe(2);
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBeDefined();
    expect(setCookieOf(second)).toEqual([]);
    // The browser, holding the cookie a set, goes on everywhere; the store still down.
    await me(b, rotated).expect(200);

    proxy.restore();
    // a's refresh outcome, queued during the outage, is written once the store is back ...
    expect(await eventually(() => a.mw.storeStats!.queued === 0 && a.mw.storeStats!.available, 5000)).toBe(true);
    // (b skips the store for a second after its last failure, before the restore: on a loaded
    // machine a's write can land sooner, and b would refresh uncoordinated again.)
    await new Promise((r) => setTimeout(r, 1100));
    // ... so a late request with the pre-refresh cookie adopts it instead of refreshing again.
    const late = await me(b, cookie);
    expect(late.status).toBe(200);
    expect(late.body.user).toBe('usr-alice');
    expect(sso.counts.refresh_token).toBe(2);
  });

  describe('(c) session.serverSide: refused at once (503), never a session that works and then silently ends', () => {
    it('a sign-in while the store is down answers 503 and sets no session; after it is back, sign-in works everywhere', async () => {
      const [a, b] = [
        await instance({ session: { serverSide: true } }),
        await instance({ session: { serverSide: true } }),
      ];
      await cut();
      const login = await request(a).get('/login?returnTo=/').expect(302);
      const authorize = await fetch(login.headers.location as string, { redirect: 'manual' });
      const back = new URL(authorize.headers.get('location')!);
      const cb = await request(a)
        .get(`${back.pathname}${back.search}`)
        .set('Cookie', cookiesFrom(setCookieOf(login)));
      expect(cb.status).toBe(503);
      expect(cookiesFrom(setCookieOf(cb))).toBe('');

      proxy.restore();
      expect(
        await eventually(
          async () =>
            (
              await signIn(a, sso)
                .then(({ cookie }) => me(b, cookie))
                .catch(() => undefined)
            )?.status === 200,
          5000,
        ),
      ).toBe(true);
    });

    it('a refresh while the store is down answers 503 without calling the SSO; the session then goes on on every instance', async () => {
      // A long first level, so that a still holds the session's tokens when the refresh is due.
      const [a, b] = [
        await instance({ session: { serverSide: true } }, 3600),
        await instance({ session: { serverSide: true } }, 3600),
      ];
      const { cookie } = await signIn(a, sso);
      await me(a, cookie).expect(200);
      clock.advance(601_000);
      sso.resetCounts();

      await cut();
      const during = await me(a, cookie);
      expect(during.status).toBe(503);
      expect(setCookieOf(during)).toEqual([]);
      expect(sso.counts.refresh_token).toBe(0);

      proxy.restore();
      expect(await eventually(async () => (await me(a, cookie)).status === 200, 5000)).toBe(true);
      // Refreshed once, stored: the other instance serves the same cookie, and a goes on.
      await me(b, cookie).expect(200);
      await me(a, cookie).expect(200);
      expect(sso.counts.refresh_token).toBe(1);
    });
  });
});
