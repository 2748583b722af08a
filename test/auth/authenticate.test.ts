import { SsoGuardError } from '../../lib/errors';
import { memoryStore } from '../../lib/store/memory';
import { coreWorld, downStore } from '../helpers/core';

const upstreamDown = (): Promise<never> => Promise.reject(new SsoGuardError('upstream_unavailable', 'SSO unreachable'));
const refused = (): Promise<never> => Promise.reject(new SsoGuardError('refresh_rejected', 'refused'));

describe('Authenticator: the hot path', () => {
  it('answers synchronously from the cached check, without writing the cookie', async () => {
    const w = coreWorld();
    const cookie = w.cookieOf(w.session());
    const first = await w.authenticator.run(cookie, undefined);
    expect(first.result?.user.user_id).toBe('u-at-1');
    const second = w.authenticator.run(cookie, undefined);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toMatchObject({ setCookie: undefined, error: undefined });
    expect(w.sso.checks).toBe(1);
  });

  it('ends a session whose rolling lifetime is over', async () => {
    const w = coreWorld();
    const cookie = w.cookieOf(w.session({ touchedAt: w.nowSec() - w.config.session.rollingDuration }));
    expect(await w.authenticator.run(cookie, undefined)).toMatchObject({
      result: undefined,
      reason: 'ended',
      setCookie: [expect.stringMatching(/Max-Age=0/)],
    });
  });
});

describe('Authenticator: a returning request reuses what did not change', () => {
  it('answers the same frozen outcome for the same cookie, and still checks revocation and lifetimes each time', async () => {
    const w = coreWorld();
    const s = w.session();
    const cookie = w.cookieOf(s);
    await w.authenticator.run(cookie, undefined);
    const first = w.authenticator.run(cookie, undefined);
    expect(Object.isFrozen(first)).toBe(true);
    expect(w.authenticator.run(cookie, undefined)).toBe(first);
    // The rolling lifetime is still checked on the reused session: past the touch interval, a write.
    w.clock.advance(w.policy.touchInterval * 1000);
    const touched = await w.authenticator.run(cookie, undefined);
    expect(touched).not.toBe(first);
    expect(w.sessionIn(touched.setCookie)?.touchedAt).toBe(w.nowSec());
    // Revocation is still checked on every request.
    await w.lifecycle.revoke(s);
    expect(await w.authenticator.run(cookie, undefined)).toMatchObject({ result: undefined, reason: 'ended' });
  });

  it('gives a server-side session the same session object and outcome on each request', async () => {
    const w = coreWorld({ store: memoryStore(), serverSide: true });
    const s = w.session();
    await w.lifecycle.keep(s, { writeBehind: false });
    const cookie = w.cookieOf(s);
    const first = await w.authenticator.run(cookie, undefined);
    expect(first.session).toEqual(s);
    const second = w.authenticator.run(cookie, undefined);
    expect(second).not.toBeInstanceOf(Promise);
    expect(w.authenticator.run(cookie, undefined)).toBe(second);
    expect((second as typeof first).session).toBe(first.session);
    expect(w.sso.checks).toBe(1);
  });
});

describe('Authenticator: early refresh failure', () => {
  it('keeps using a still-valid token when the refresh ahead of expiry fails upstream', async () => {
    const w = coreWorld();
    const cookie = w.cookieOf(w.session({ expiresAt: w.nowSec() + 30 })); // inside the 60 s refresh window
    w.sso.refreshAnswer = upstreamDown;
    const outcome = await w.authenticator.run(cookie, undefined);
    expect(outcome).toMatchObject({ error: undefined, setCookie: undefined });
    expect(outcome.session?.accessToken).toBe('at-1');
    expect(outcome.result?.user.user_id).toBe('u-at-1');
    expect(w.sso.refreshes).toBe(1);
  });

  it('fails the request (session kept, no second refresh) when check_token then rejects the token', async () => {
    const w = coreWorld();
    const cookie = w.cookieOf(w.session({ expiresAt: w.nowSec() + 30 }));
    w.sso.refreshAnswer = upstreamDown;
    w.sso.check = async () => undefined;
    const outcome = await w.authenticator.run(cookie, undefined);
    expect(outcome).toMatchObject({ result: undefined, setCookie: undefined, error: { code: 'upstream_unavailable' } });
    expect(w.sso.refreshes).toBe(1);
  });

  it('fails the request when the token has already expired and the refresh fails upstream', async () => {
    const w = coreWorld();
    const cookie = w.cookieOf(w.session({ expiresAt: w.nowSec() - 1 }));
    w.sso.refreshAnswer = upstreamDown;
    expect(await w.authenticator.run(cookie, undefined)).toMatchObject({
      result: undefined,
      setCookie: undefined,
      error: { code: 'upstream_unavailable' },
    });
    expect(w.sso.checks).toBe(0);
  });

  it('ends the session when the early refresh is refused', async () => {
    const w = coreWorld();
    w.sso.refreshAnswer = refused;
    const outcome = await w.authenticator.run(w.cookieOf(w.session({ expiresAt: w.nowSec() + 30 })), undefined);
    expect(outcome).toMatchObject({ result: undefined, reason: 'ended', error: undefined });
  });
});

describe('Authenticator: rejected token, then refresh', () => {
  it('refreshes once when check_token rejects a token outside its refresh window, and writes the new session', async () => {
    const w = coreWorld();
    w.sso.check = async (token) =>
      token === 'at-1'
        ? undefined
        : { user: { user_id: `u-${token}` }, credentials: { accessKey: 'AK', secretKey: 'SK', token: 'e30.e30.sig' } };
    const outcome = await w.authenticator.run(w.cookieOf(w.session()), undefined);
    expect(outcome.result?.user.user_id).toBe('u-at-from-rt-1');
    expect(w.sessionIn(outcome.setCookie)).toMatchObject({
      id: 'sid-1',
      accessToken: 'at-from-rt-1',
      refreshToken: 'rt-1+',
      touchedAt: w.nowSec(),
    });
    expect([w.sso.checks, w.sso.refreshes]).toEqual([2, 1]);
  });

  it('ends the session when the refreshed token is rejected too', async () => {
    const w = coreWorld();
    w.sso.check = async () => undefined;
    expect(await w.authenticator.run(w.cookieOf(w.session()), undefined)).toMatchObject({
      result: undefined,
      reason: 'ended',
    });
    expect(w.sso.refreshes).toBe(1);
  });

  it('ends a session without a refresh token whose token is rejected', async () => {
    const w = coreWorld();
    w.sso.check = async () => undefined;
    const { refreshToken: _none, ...noRefresh } = w.session();
    expect(await w.authenticator.run(w.cookieOf(noRefresh), undefined)).toMatchObject({
      result: undefined,
      reason: 'ended',
    });
    expect(w.sso.refreshes).toBe(0);
  });
});

describe('Authenticator: store down', () => {
  it('answers 503 for a server-side session missing from the first level, and keeps the cookie', async () => {
    const w = coreWorld({ store: downStore(), serverSide: true });
    const outcome = await w.authenticator.run(w.cookieOf(w.session()), undefined);
    expect(outcome).toMatchObject({
      result: undefined,
      setCookie: undefined,
      error: { code: 'upstream_unavailable', status: 503 },
    });
    expect(w.sso.checks).toBe(0);
  });

  it('still authenticates and refreshes a cookie session in-process (revocation check and refresh lock fall back)', async () => {
    const w = coreWorld({ store: downStore() });
    const outcome = await w.authenticator.run(w.cookieOf(w.session({ expiresAt: w.nowSec() + 30 })), undefined);
    expect(outcome.error).toBeUndefined();
    expect(outcome.session?.accessToken).toBe('at-from-rt-1');
    expect(w.shared!.stats.available).toBe(false);
  });

  it('refuses a session another instance logged out, as the store says', async () => {
    const store = memoryStore();
    const w = coreWorld({ store });
    const other = coreWorld({ store });
    const s = w.session();
    await other.lifecycle.revoke(s);
    expect(await w.authenticator.run(w.cookieOf(s), undefined)).toMatchObject({ result: undefined, reason: 'ended' });
  });
});

describe('Authenticator: the outcome keeps the cookie names the request carried', () => {
  it('for a session, a stale chunk included (what a renewal or revocation later overwrites)', async () => {
    const w = coreWorld();
    const outcome = await w.authenticator.run(`${w.cookieOf(w.session())}; sso_session.1=left-over`, undefined);
    expect(outcome.result?.user.user_id).toBe('u-at-1');
    expect(outcome.cookieNames).toEqual(['sso_session', 'sso_session.1']);
  });

  it('for a cookie that does not open, and for an ended session', async () => {
    const w = coreWorld();
    expect((await w.authenticator.run('sso_session=garbage', undefined)).cookieNames).toEqual(['sso_session']);
    const over = w.cookieOf(w.session({ createdAt: w.nowSec() - w.config.session.absoluteDuration }));
    expect(await w.authenticator.run(over, undefined)).toMatchObject({ reason: 'ended', cookieNames: ['sso_session'] });
    expect(w.authenticator.run(undefined, undefined)).toMatchObject({ cookieNames: [] });
  });
});
