/**
 * `revokeUser()` across instances sharing a real Redis (issue 19 §3): delivered by the sealed
 * pub/sub message, kept in the store for instances that start later or missed it, queued during
 * a store outage like a logout. Instances reach Redis through a TCP proxy the test cuts and
 * restores (every connection destroyed, new ones refused).
 */
import express from 'express';
import request from 'supertest';
import { createClient } from 'redis';
import type { Emulator } from '../../lib/testing';
import { auth, type SsoGuardMiddleware } from '../../lib/express/middleware';
import { userRevoker } from '../../lib/auth/user-revoker';
import { userKeyOf } from '../../lib/session/user-revocations';
import { redisStore } from '../../lib/store/redis';
import type { SessionEndEvent } from '../../lib/telemetry/events';
import { APP_BASE_URL, signIn, startTestEmulator } from '../helpers/app';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';
import { REDIS_URL, cleanPrefix, dumpPrefix, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/eventually';

jest.setTimeout(30_000);

type App = express.Express & { mw: SsoGuardMiddleware; ended: SessionEndEvent[] };

describeRedis('revokeUser() across instances sharing Redis', () => {
  let sso: Emulator;
  let proxy: TcpProxy;
  const prefix = uniquePrefix();
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    const users = ['usr-alice', 'usr-bob', 'usr-carol', 'usr-dave', 'usr-erin'].map((id) => ({
      user_id: id,
      user_name: id.slice(4),
    }));
    sso = await startTestEmulator({ accessTokenTtl: 600, users });
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
  beforeEach(() => proxy.restore());
  afterEach(() => sso.setOptions({ autoApprove: 'usr-alice' }));

  /** A Redis client through the proxy (reconnecting every 100 ms). */
  async function client() {
    const c = createClient({
      url: proxy.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 100, connectTimeout: 500 },
    });
    c.on('error', () => undefined);
    await c.connect();
    closers.push(() => c.quit());
    return c;
  }

  /** One instance with its own Redis client, a long first level (so only pub/sub or the store tell it). */
  async function instance(): Promise<App> {
    const ended: SessionEndEvent[] = [];
    const mw = auth({
      ssoBaseUrl: sso.url,
      appBaseUrl: APP_BASE_URL,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secret: SECRET,
      store: redisStore({ client: await client(), prefix, timeout: 200, localTtl: 3600 }),
      events: { sessionEnd: (e) => void ended.push(e) },
    });
    await mw.ready;
    closers.push(() => mw.close());
    const app = express();
    app.use(mw);
    app.get('/api/me', (req, res) => res.json({ user: req.sso.user?.user_id ?? null }));
    return Object.assign(app, { mw, ended });
  }

  const me = (app: App, cookie: string) => request(app).get('/api/me').set('Cookie', cookie);
  async function signInAs(app: App, userId: string): Promise<string> {
    sso.setOptions({ autoApprove: userId });
    return (await signIn(app, sso)).cookie;
  }

  it("a revocation on one instance ends the user's sessions on the other at once, and on an instance started later; not another user's", async () => {
    const [a, b] = [await instance(), await instance()];
    const [alice1, alice2, bob] = [
      await signInAs(a, 'usr-alice'),
      await signInAs(b, 'usr-alice'),
      await signInAs(b, 'usr-bob'),
    ];
    for (const c of [alice1, alice2, bob]) {
      await me(a, c).expect(200);
      await me(b, c).expect(200);
    }

    await a.mw.revokeUser('usr-alice');
    // b holds both answers in its first level for an hour: the message tells it.
    expect(await eventually(async () => (await me(b, alice1)).status === 401, 3000)).toBe(true);
    await me(b, alice2).expect(401);
    await me(a, alice2).expect(401);
    await me(b, bob).expect(200);
    expect(b.ended).toEqual([
      { reason: 'user_revoked', userId: 'usr-alice' },
      { reason: 'user_revoked', userId: 'usr-alice' },
    ]);

    // Started after the revocation: it never heard the message, the store tells it.
    const c = await instance();
    await me(c, alice1).expect(401);
    await me(c, bob).expect(200);

    // A new sign-in right away (on an instance started later) works everywhere.
    const fresh = await signInAs(await instance(), 'usr-alice');
    await me(b, fresh).expect(200);
    await me(c, fresh).expect(200);
  });

  it('keys the store by a hash of the user id, never the raw id', async () => {
    const a = await instance();
    await a.mw.revokeUser('usr-hashed-id');
    const dump = await dumpPrefix(REDIS_URL, prefix);
    expect(dump.has(`${prefix}user:${userKeyOf('usr-hashed-id')}`)).toBe(true);
    expect([...dump.keys(), ...dump.values()].join('\n')).not.toContain('usr-hashed-id');
  });

  it('userRevoker({ store, secret }) from a process without auth() ends the sessions on every instance', async () => {
    const [a, b] = [await instance(), await instance()];
    const cookie = await signInAs(a, 'usr-carol');
    await me(a, cookie).expect(200);
    await me(b, cookie).expect(200);
    const revoker = userRevoker({ store: redisStore({ client: await client(), prefix }), secret: SECRET });
    closers.push(() => revoker.close());
    await revoker.revokeUser('usr-carol');
    expect(await eventually(async () => (await me(a, cookie)).status === 401, 3000)).toBe(true);
    expect(await eventually(async () => (await me(b, cookie)).status === 401, 3000)).toBe(true);
    await me(await instance(), cookie).expect(401);
  });

  it('a revocation made while the store is unreachable is queued, then reaches the other instances once it is back', async () => {
    const [a, b] = [await instance(), await instance()];
    const cookie = await signInAs(a, 'usr-dave');
    await me(a, cookie).expect(200);
    await me(b, cookie).expect(200);

    proxy.cut();
    await new Promise((r) => setTimeout(r, 100));
    await a.mw.revokeUser('usr-dave');
    await me(a, cookie).expect(401);
    expect(a.mw.storeStats!.queued).toBeGreaterThan(0);
    await me(b, cookie).expect(200);

    proxy.restore();
    // No request on a: its timer writes and publishes the revocation.
    expect(await eventually(async () => (await me(b, cookie)).status === 401, 5000)).toBe(true);
    expect(await eventually(() => a.mw.storeStats!.queued === 0, 3000)).toBe(true);
    await me(await instance(), cookie).expect(401);
  });

  it('userRevoker() validates its options and its argument', async () => {
    expect(() => userRevoker({ store: {} as never, secret: SECRET })).toThrow(/"store" must be a store/);
    expect(() => userRevoker({ store: redisStore({ client: createClient(), prefix }), secret: 'short' })).toThrow(
      /"secret" must be a string of at least 32 characters/,
    );
    const revoker = userRevoker({ store: redisStore({ client: await client(), prefix }), secret: SECRET });
    closers.push(() => revoker.close());
    await expect(revoker.revokeUser('' as string)).rejects.toMatchObject({ code: 'invalid_option' });
  });
});
