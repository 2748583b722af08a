import request from 'supertest';
import { sessionCookie } from '../../lib/testing';
import type { Emulator } from '../../lib/testing';
import { SsoGuardError } from '../../lib/errors';
import { EXPRESS_VERSIONS, createTestApp, setCookieOf, startTestEmulator, type ExpressFactory } from '../helpers/app';
import { fakeClock } from '../helpers/clock';
import { OLD_SECRET, SECRET } from '../helpers/options';
import { openSession } from '../helpers/session';

describe.each(EXPRESS_VERSIONS)('sessionCookie() from express-sso-guard/testing (%s)', (_name, express) => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator();
  });
  afterAll(() => sso.close());

  it('signs a supertest request in as the user the tokens were issued for, with real temporary keys', async () => {
    const app = createTestApp(express as ExpressFactory, sso);
    const tokens = sso.issueTokens('usr-bob');
    const cookie = sessionCookie(tokens, { secret: SECRET });
    expect(cookie).toMatch(/^sso_session=[A-Za-z0-9_-]+$/);
    sso.resetCounts();
    const res = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(res.body).toMatchObject({
      authenticated: true,
      user: { user_id: 'usr-bob' },
      reqUser: { user_id: 'usr-bob' },
    });
    expect(sso.counts.check_token).toBe(1);
    expect(sso.lookupAccessKey(res.body.credentials.accessKey)).toMatchObject({
      secretKey: res.body.credentials.secretKey,
    });
    // The cookie opens as the session the callback would have written.
    expect(openSession(cookie)).toMatchObject({
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      tokenType: tokens.token_type,
      lifetime: tokens.expires_in,
    });
  });

  it("uses the app's cookie name and clock, and the session refreshes like a real one", async () => {
    const clock = fakeClock(Date.now());
    const app = createTestApp(express as ExpressFactory, sso, { clock, session: { name: 'my_sess' } });
    const tokens = sso.issueTokens('usr-alice', { accessTokenTtl: 3600 });
    const cookie = sessionCookie(tokens, { secret: [SECRET, OLD_SECRET], name: 'my_sess', now: clock() });
    expect(cookie.startsWith('my_sess=')).toBe(true);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    // Past the refresh point (a tenth of the lifetime, at most 60 s, before expiry): one refresh, a new cookie.
    clock.advance(3_590_000);
    sso.resetCounts();
    const res = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(sso.counts.refresh_token).toBe(1);
    expect(setCookieOf(res).some((c) => c.startsWith('my_sess='))).toBe(true);
  });

  it('is not signed in with another secret', async () => {
    const app = createTestApp(express as ExpressFactory, sso);
    const cookie = sessionCookie(sso.issueTokens(), { secret: OLD_SECRET });
    await request(app).get('/api/me').set('Cookie', cookie).expect(401);
  });
});

describe('sessionCookie() arguments', () => {
  const tokens = { access_token: 'at', expires_in: 60, token_type: 'Bearer' };
  it.each([
    [() => sessionCookie(tokens, { secret: 'short' }), /"secret"/],
    [() => sessionCookie(tokens, { secret: SECRET, name: 'bad name;' }), /"session.name"/],
    [() => sessionCookie({ ...tokens, access_token: '' }, { secret: SECRET }), /"tokens"/],
    [() => sessionCookie({ ...tokens, expires_in: -1 }, { secret: SECRET }), /"tokens.expires_in"/],
    [() => sessionCookie(tokens, { secret: SECRET, now: Number.NaN }), /"now"/],
  ])('refuses bad input with a named message (%#)', (call, message) => {
    expect(call).toThrow(SsoGuardError);
    expect(call).toThrow(message);
  });
});
