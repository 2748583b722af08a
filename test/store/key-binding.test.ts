import { sessionCookieFor } from '../helpers/parts';
/**
 * A sealed store value is bound to its purpose and full key. Someone who can
 * write to Redis (but has not the session secret) copies one user's values onto another user's
 * keys with raw commands; a second instance (fresh in-process caches, same store and secret)
 * never serves the other user, never answers 500.
 */
import express from 'express';
import request from 'supertest';
import { createClient } from 'redis';
import type { Emulator } from '../../lib/testing';
import { auth } from '../../lib/express/middleware';
import { redisStore } from '../../lib/store/redis';
import type { SsoGuardOptions } from '../../lib/options';
import { tokenHash } from '../../lib/util/crypto';
import { Shared } from '../../lib/store/shared-store';
import type { StoredTokens } from '../../lib/session/server-sessions';
import { APP_BASE_URL, signIn, startTestEmulator } from '../helpers/app';
import { fakeClock, type FakeClock } from '../helpers/clock';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';
import { openSession } from '../helpers/session';
import { REDIS_URL, cleanPrefix, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';

type Client = ReturnType<typeof createClient>;

describeRedis('store values bound to their key (real Redis, two users, values copied across keys)', () => {
  let sso: Emulator;
  let clock: FakeClock;
  let client: Client;
  let raw: Client;
  const prefix = uniquePrefix();
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock, accessTokenTtl: 600 });
    client = createClient({ url: REDIS_URL });
    raw = createClient({ url: REDIS_URL });
    for (const c of [client, raw]) {
      c.on('error', () => undefined);
      await c.connect();
    }
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await sso.close();
    await cleanPrefix(prefix);
    await client.quit();
    await raw.quit();
  });
  beforeEach(() => sso.resetCounts());

  /** One app instance with its own in-process caches, on the shared Redis. */
  function instance(options: SsoGuardOptions = {}) {
    const mw = auth({
      ssoBaseUrl: sso.url,
      appBaseUrl: APP_BASE_URL,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secret: SECRET,
      clock,
      store: redisStore({ client, prefix }),
      ...options,
    });
    closers.push(() => mw.close());
    const app = express();
    app.use(mw);
    app.get('/api/me', (req, res) =>
      res.json({ user: req.sso.user?.user_id ?? null, accessKey: req.sso.credentials?.accessKey ?? null }),
    );
    return app;
  }

  async function signInAs(app: express.Express, userId: string): Promise<string> {
    sso.setOptions({ autoApprove: userId });
    return (await signIn(app, sso)).cookie;
  }

  /** Copies the raw value of `from` onto `to` (both relative to the prefix), as an attacker with Redis access would. */
  async function copy(from: string, to: string): Promise<void> {
    const value = await raw.get(prefix + from);
    expect(value).not.toBeNull();
    await raw.set(prefix + to, value!, { PX: 60_000 });
  }

  const pointerId = (cookie: string) =>
    sessionCookieFor({ store: redisStore({ client, prefix }), session: { serverSide: true } }).read(cookie).pointer!.id;

  it('cookie sessions: a check_token entry copied onto another token is a miss, not the other user', async () => {
    const a = instance();
    const alice = await signInAs(a, 'usr-alice');
    const bob = await signInAs(a, 'usr-bob');
    expect((await request(a).get('/api/me').set('Cookie', alice).expect(200)).body.user).toBe('usr-alice');
    expect((await request(a).get('/api/me').set('Cookie', bob).expect(200)).body.user).toBe('usr-bob');
    await copy(
      `check:${tokenHash(openSession(alice).accessToken)}`,
      `check:${tokenHash(openSession(bob).accessToken)}`,
    );

    const b = instance();
    sso.resetCounts();
    const res = await request(b).get('/api/me').set('Cookie', bob);
    expect(res.status).toBe(200);
    expect(res.body.user).toBe('usr-bob');
    // The copied entry did not open: b asked the SSO for Bob's token itself.
    expect(sso.counts.check_token).toBe(1);
  });

  it('cookie sessions: a refresh outcome copied onto another refresh token is a miss, not the other user', async () => {
    const a = instance();
    const alice = await signInAs(a, 'usr-alice');
    const bob = await signInAs(a, 'usr-bob');
    clock.advance(601_000);
    // Alice's session refreshes on a: its outcome goes to the store under her old refresh token.
    expect((await request(a).get('/api/me').set('Cookie', alice).expect(200)).body.user).toBe('usr-alice');
    await copy(
      `refresh:${tokenHash(openSession(alice).refreshToken!)}`,
      `refresh:${tokenHash(openSession(bob).refreshToken!)}`,
    );

    const b = instance();
    sso.resetCounts();
    const res = await request(b).get('/api/me').set('Cookie', bob);
    expect(res.status).toBe(200);
    expect(res.body.user).toBe('usr-bob');
    expect(sso.counts.refresh_token).toBe(1);
  });

  it('a value copied under a key of another purpose (check_token entry -> refresh outcome) is a miss', async () => {
    const a = instance();
    const alice = await signInAs(a, 'usr-alice');
    const bob = await signInAs(a, 'usr-bob');
    await request(a).get('/api/me').set('Cookie', alice).expect(200);
    clock.advance(601_000);
    await copy(
      `check:${tokenHash(openSession(alice).accessToken)}`,
      `refresh:${tokenHash(openSession(bob).refreshToken!)}`,
    );

    const b = instance();
    const res = await request(b).get('/api/me').set('Cookie', bob);
    // Read as a refused refresh, this would sign Bob out; as a miss, Bob refreshes and stays in.
    expect(res.status).toBe(200);
    expect(res.body.user).toBe('usr-bob');
  });

  it('session.serverSide: a session copied onto another session id is never served; never a 500', async () => {
    const a = instance({ session: { serverSide: true } });
    const alice = await signInAs(a, 'usr-alice');
    const bob = await signInAs(a, 'usr-bob');
    expect((await request(a).get('/api/me').set('Cookie', alice).expect(200)).body.user).toBe('usr-alice');
    await copy(`session:${pointerId(alice)}`, `session:${pointerId(bob)}`);

    const b = instance({ session: { serverSide: true } });
    const res = await request(b).get('/api/me').set('Cookie', bob);
    expect(res.body.user).not.toBe('usr-alice');
    // Bob's own value was overwritten: his session is gone (signed out), not Alice's served.
    expect(res.status).toBe(401);
    // Alice's own session is untouched.
    expect((await request(b).get('/api/me').set('Cookie', alice).expect(200)).body.user).toBe('usr-alice');
  });

  it('session.serverSide: check_token entries and refresh outcomes copied across users are misses', async () => {
    const a = instance({ session: { serverSide: true } });
    const alice = await signInAs(a, 'usr-alice');
    const bob = await signInAs(a, 'usr-bob');
    // The tokens are sealed in the store: read them as an instance would, to name their keys.
    const reader = new Shared(redisStore({ client, prefix }), [SECRET]);
    const tokensOf = async (cookie: string) => (await reader.get<StoredTokens>(`session:${pointerId(cookie)}`))!;
    const [aliceTokens, bobTokens] = [await tokensOf(alice), await tokensOf(bob)];
    expect(aliceTokens.accessToken).toBeDefined();
    await request(a).get('/api/me').set('Cookie', alice).expect(200);
    await request(a).get('/api/me').set('Cookie', bob).expect(200);
    await copy(`check:${tokenHash(aliceTokens.accessToken)}`, `check:${tokenHash(bobTokens.accessToken)}`);
    let res = await request(instance({ session: { serverSide: true } }))
      .get('/api/me')
      .set('Cookie', bob);
    expect(res.status).toBe(200);
    expect(res.body.user).toBe('usr-bob');

    clock.advance(601_000);
    await request(a).get('/api/me').set('Cookie', alice).expect(200);
    await copy(`refresh:${tokenHash(aliceTokens.refreshToken!)}`, `refresh:${tokenHash(bobTokens.refreshToken!)}`);
    res = await request(instance({ session: { serverSide: true } }))
      .get('/api/me')
      .set('Cookie', bob);
    expect(res.status).toBe(200);
    expect(res.body.user).toBe('usr-bob');
  });
});
