import request from 'supertest';
import type { Emulator, EmulatorOptions } from '../../lib/testing';
import type { SsoGuardOptions } from '../../lib/options';
import {
  EXPRESS_VERSIONS,
  cookiesFrom,
  createTestApp,
  setCookieOf,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { fakeClock } from '../helpers/clock';
import { openSession } from '../helpers/session';

// The package's flows (sign-in, cached request, refresh, a refused refresh, logout)
// against every documented variant of the real SSO the emulator plays, on Express 4 and 5.

const TTL = 600;

interface Variant {
  emulator: EmulatorOptions;
  app?: SsoGuardOptions;
}

const VARIANTS: [string, Variant][] = [
  ['errors as HTTP statuses, no ret_code on success', { emulator: { errorStyle: 'status' } }],
  [
    'errors as ret_code numbers, ret_code 0 on success',
    { emulator: { errorStyle: 'ret_code', retCodeOnSuccess: true } },
  ],
  [
    'errors as ret_code strings, ret_code "0" on success',
    { emulator: { errorStyle: 'ret_code', retCodeOnSuccess: true, retCodeType: 'string' } },
  ],
  [
    'errors as ret_code strings, no ret_code on success',
    { emulator: { errorStyle: 'ret_code', retCodeType: 'string' } },
  ],
  ['refresh answers with keys and user', { emulator: { refreshWithCredentials: true } }],
  [
    'refresh answers with keys and user, ret_code strings',
    {
      emulator: { refreshWithCredentials: true, errorStyle: 'ret_code', retCodeOnSuccess: true, retCodeType: 'string' },
    },
  ],
  ['refresh tokens not rotated', { emulator: { rotateRefreshTokens: false } }],
  ['token_issuer app', { emulator: {}, app: { tokenIssuer: 'app' } }],
  ['token_issuer app_dev', { emulator: {}, app: { tokenIssuer: 'app_dev' } }],
  ['token_issuer iam', { emulator: {}, app: { tokenIssuer: 'iam' } }],
];

const cases = EXPRESS_VERSIONS.flatMap(([name, express]) =>
  VARIANTS.map(([label, variant]) => [name, label, express, variant] as const),
);

describe.each(cases)('%s, SSO variant: %s', (_name, _label, express, variant) => {
  let sso: Emulator;
  const clock = fakeClock(Date.now());

  beforeAll(async () => {
    sso = await startTestEmulator({ clock, accessTokenTtl: TTL, ...variant.emulator });
  });
  afterAll(() => sso.close());

  it('sign-in, cached request, refresh (no extra check_token when the refresh answer has the keys), a refused refresh ends the session, logout', async () => {
    const app = createTestApp(express as ExpressFactory, sso, { clock, ...variant.app });
    const { cookie, location } = await signIn(app, sso, '/dest');
    expect(location).toBe('/dest');
    sso.resetCounts();

    // Cached: one check_token for two requests.
    const first = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(first.body.user).toMatchObject({ user_id: 'usr-alice' });
    const accessKey = first.body.credentials.accessKey as string;
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(sso.counts.check_token).toBe(1);

    // Refresh: expired access token, new tokens, the new token's credentials.
    clock.advance((TTL + 1) * 1000);
    sso.resetCounts();
    const refreshed = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    const next = cookiesFrom(setCookieOf(refreshed), cookie);
    expect(openSession(next).accessToken).not.toBe(openSession(cookie).accessToken);
    expect(sso.counts.refresh_token).toBe(1);
    const withKeys = variant.emulator.refreshWithCredentials === true;
    expect(sso.counts.check_token).toBe(withKeys ? 0 : 1);
    expect(refreshed.body.credentials.accessKey).toEqual(expect.stringMatching(/^TMP/));
    if (withKeys) expect(refreshed.body.credentials.accessKey).not.toBe(accessKey);
    // The seeded (or fetched) answer is the one check_token gives for the new token.
    const again = await request(app).get('/api/me').set('Cookie', next).expect(200);
    expect(again.body.credentials).toEqual(refreshed.body.credentials);
    expect(sso.counts.check_token).toBe(withKeys ? 0 : 1);

    // Logout: the cookie is refused afterwards.
    await request(app).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', next).expect(302);
    await request(app).get('/api/me').set('Cookie', next).expect(401);

    // A refused refresh (revoked refresh token) ends the session in this variant's error style.
    const other = await signIn(app, sso);
    sso.revokeToken(openSession(other.cookie).refreshToken!);
    clock.advance((TTL + 1) * 1000);
    const ended = await request(app).get('/api/me').set('Cookie', other.cookie).expect(401);
    expect(setCookieOf(ended).some((c) => /^sso_session=.*Max-Age=0/.test(c))).toBe(true);
  });

  it('a transient ret_code (busy) keeps the session; the next request succeeds without signing in again', async () => {
    const app = createTestApp(express as ExpressFactory, sso, { clock, ...variant.app });
    const { cookie } = await signIn(app, sso);
    sso.setFault(
      'check_token',
      { type: 'retCode', retCode: variant.emulator.retCodeType === 'string' ? '5100' : 5100 },
      { times: 1 },
    );
    const busy = await request(app).get('/api/me').set('Cookie', cookie).expect(503);
    expect(setCookieOf(busy)).toEqual([]);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
  });
});

describe.each(EXPRESS_VERSIONS)('authorizationParams through /login (%s)', (_name, express) => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator();
  });
  afterAll(() => sso.close());

  it('the authorize redirect carries the extra parameters after the protected ones, and sign-in works', async () => {
    const app = createTestApp(express as ExpressFactory, sso, {
      authorizationParams: { redirect_url: 'http://app.test/callback', lang: 'zh-cn' },
    });
    const login = await request(app).get('/login?returnTo=/x').expect(302);
    const url = new URL(login.headers.location as string);
    expect([...url.searchParams.keys()]).toEqual([
      'client_id',
      'state',
      'response_type',
      'redirect_uri',
      'redirect_url',
      'lang',
    ]);
    expect(url.searchParams.get('lang')).toBe('zh-cn');
    const { cookie } = await signIn(app, sso, '/x');
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
  });
});
