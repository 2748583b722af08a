import request from 'supertest';
import type { Express } from 'express';
import type { Emulator } from '../../lib/testing';
import type { SsoGuardOptions } from '../../lib/options';
import { SsoGuardError } from '../../lib/errors';
import { auth, requiresAuth } from '../../lib/express/middleware';
import {
  EXPRESS_VERSIONS,
  APP_BASE_URL,
  cookiesFrom,
  createTestApp,
  setCookieOf,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { fakeClock, type FakeClock } from '../helpers/clock';
import { openSession } from '../helpers/session';
import { CLIENT_ID, CLIENT_SECRET, OLD_SECRET, SECRET } from '../helpers/options';

const JSON_ACCEPT = 'application/json';
const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe.each(EXPRESS_VERSIONS)('auth() middleware (%s)', (_name, express) => {
  let sso: Emulator;
  let clock: FakeClock;
  let app: Express;
  const make = (options: SsoGuardOptions = {}, extra?: (a: Express) => void) =>
    createTestApp(express as ExpressFactory, sso, { clock, httpTimeout: 500, ...options }, extra);

  beforeAll(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock, accessTokenTtl: 600 });
  });
  afterAll(() => sso.close());
  beforeEach(() => {
    sso.clearFaults();
    sso.setOptions({ accessTokenTtl: 600, rotateRefreshTokens: true, refreshTokens: true });
    app = make();
    sso.resetCounts();
  });

  describe('signed in', () => {
    it('attaches req.sso.user, req.sso.credentials and req.user', async () => {
      const { cookie } = await signIn(app, sso);
      const res = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect(res.body.authenticated).toBe(true);
      expect(res.body.user).toMatchObject({ user_id: expect.any(String), user_name: expect.any(String) });
      expect(res.body.user.user_verify).toBeUndefined();
      expect(res.body.credentials).toEqual({
        accessKey: expect.stringMatching(/^TMP/),
        secretKey: expect.any(String),
        token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      });
      expect(res.body.reqUser).toEqual(res.body.user);
    });

    it('sends is_filter_user_verify=1 when userVerify is set', async () => {
      const a = make({ userVerify: true });
      const { cookie } = await signIn(a, sso);
      const res = await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      expect(res.body.user).toHaveProperty('user_verify');
    });

    it('calls check_token once per token, not per request, and writes no cookie on unchanged requests', async () => {
      const { cookie } = await signIn(app, sso);
      sso.resetCounts();
      for (let i = 0; i < 5; i++) {
        const res = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      expect(sso.counts.check_token).toBe(1);
    });

    it('makes exactly ONE check_token call for 1000 concurrent requests carrying one new token', async () => {
      const { cookie } = await signIn(app, sso);
      sso.resetCounts();
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const port = (server.address() as { port: number }).port;
      try {
        const statuses = await Promise.all(
          Array.from({ length: 1000 }, () =>
            fetch(`http://127.0.0.1:${port}/api/me`, { headers: { cookie } }).then((r) => r.status),
          ),
        );
        expect(statuses.every((s) => s === 200)).toBe(true);
        expect(sso.counts.check_token).toBe(1);
      } finally {
        server.close();
      }
    });

    it('check_token cache is bounded by cache.max and re-checks evicted tokens', async () => {
      const a = make({ cache: { max: 2 } });
      const sessions = [await signIn(a, sso), await signIn(a, sso), await signIn(a, sso)];
      sso.resetCounts();
      for (const s of sessions) await request(a).get('/api/me').set('Cookie', s.cookie).expect(200);
      expect(sso.counts.check_token).toBe(3);
      await request(a).get('/api/me').set('Cookie', sessions[0]!.cookie).expect(200);
      expect(sso.counts.check_token).toBe(4);
    });

    it('re-checks the token after cache.ttl', async () => {
      const a = make({ cache: { ttl: 30 } });
      const { cookie } = await signIn(a, sso);
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      sso.resetCounts();
      clock.advance(29_000);
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      expect(sso.counts.check_token).toBe(0);
      clock.advance(2_000);
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      expect(sso.counts.check_token).toBe(1);
    });
  });

  describe('refresh', () => {
    it('refreshes ahead of expiry (a tenth of the lifetime, at most 60 s) and rewrites the cookie', async () => {
      sso.setOptions({ accessTokenTtl: 300 });
      const { cookie } = await signIn(app, sso);
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      clock.advance(269_000); // 31 s left: not yet (300/10 = 30 s early)
      const before = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect(sso.counts.refresh_token).toBe(0);
      expect(before.headers['set-cookie']).toBeUndefined();
      clock.advance(2_000); // 29 s left
      const res = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect(sso.counts.refresh_token).toBe(1);
      expect(setCookieOf(res).find((c) => c.startsWith('sso_session='))).toBeDefined();
    });

    it('caps the early window at 60 s for long-lived tokens', async () => {
      sso.setOptions({ accessTokenTtl: 3600 });
      const { cookie } = await signIn(app, sso);
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      clock.advance((3600 - 61) * 1000);
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect(sso.counts.refresh_token).toBe(0);
      clock.advance(2000);
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect(sso.counts.refresh_token).toBe(1);
    });

    it('makes ONE refresh call for 200 concurrent requests with one expired session, all 200', async () => {
      const { cookie } = await signIn(app, sso);
      clock.advance(601_000);
      sso.resetCounts();
      const results = await Promise.all(
        Array.from({ length: 200 }, () => request(app).get('/api/me').set('Cookie', cookie)),
      );
      expect(results.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      expect(sso.counts.refresh_token).toBe(1);
      expect(sso.counts.check_token).toBe(1);
    });

    it('lets a late request with the pre-refresh cookie adopt the new tokens (rotation killed the old refresh token)', async () => {
      const { cookie: old } = await signIn(app, sso);
      clock.advance(601_000);
      const first = await request(app).get('/api/me').set('Cookie', old).expect(200);
      const fresh = cookiesFrom(setCookieOf(first), old);
      clock.advance(30_000);
      sso.resetCounts();
      const late = await request(app).get('/api/me').set('Cookie', old).expect(200);
      expect(sso.counts.refresh_token).toBe(0);
      expect(late.body.user).toEqual(first.body.user);
      // The late request got the same access token: the cookie it received works without a new check.
      const adopted = cookiesFrom(setCookieOf(late), old);
      await request(app).get('/api/me').set('Cookie', adopted).expect(200);
      await request(app).get('/api/me').set('Cookie', fresh).expect(200);
      expect(sso.counts.check_token).toBe(0);
    });

    it('refreshes when check_token rejects a token that still has a refresh token', async () => {
      const a = make({ cache: { ttl: 1 } });
      const { cookie } = await signIn(a, sso);
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      sso.revokeToken(openSession(cookie).accessToken); // the access token only; the grant's refresh token lives on
      clock.advance(2000);
      sso.resetCounts();
      const res = await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      expect(sso.counts.check_token).toBe(2);
      expect(sso.counts.refresh_token).toBe(1);
      expect(openSession(cookiesFrom(setCookieOf(res))).accessToken).not.toBe(openSession(cookie).accessToken);
    });

    it('ends the session when check_token and refresh both refuse', async () => {
      const a = make({ cache: { ttl: 1 } });
      const { cookie } = await signIn(a, sso);
      const r1 = await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      sso.revokeUser(r1.body.user.user_id);
      clock.advance(2000);
      const r2 = await request(a).get('/api/me').set('Cookie', cookie).set('Accept', JSON_ACCEPT).expect(401);
      expect(setCookieOf(r2).find((c) => c.startsWith('sso_session='))).toMatch(/Max-Age=0/);
    });

    it('ends the session when the refresh token is refused: page -> login redirect, API -> 401', async () => {
      const { cookie } = await signIn(app, sso);
      clock.advance(601_000);
      sso.setFault('refresh_token', { type: 'retCode', retCode: 2100, message: 'invalid grant' });
      const api = await request(app).get('/api/me').set('Cookie', cookie).set('Accept', JSON_ACCEPT).expect(401);
      expect(api.body).toEqual({ error: 'unauthenticated', message: 'Session expired; sign in again' });
      expect(setCookieOf(api).find((c) => c.startsWith('sso_session='))).toMatch(/Max-Age=0/);
      const page = await request(app).get('/page').set('Cookie', cookie).set('Accept', HTML_ACCEPT).expect(302);
      expect(page.headers.location).toBe('/login?returnTo=%2Fpage');
    });

    it('keeps refreshing sessions whose refresh token does not rotate, even with tokens under 60 s', async () => {
      sso.setOptions({ rotateRefreshTokens: false, accessTokenTtl: 30 });
      let { cookie } = await signIn(app, sso);
      const first = openSession(cookie);
      for (let i = 0; i < 6; i++) {
        clock.advance(31_000);
        const res = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
        cookie = cookiesFrom(setCookieOf(res), cookie);
      }
      expect(sso.counts.refresh_token).toBe(6);
      expect(openSession(cookie).refreshToken).toBe(first.refreshToken);
    });

    it('without a refresh token (iam_jwt), an expired session means signing in again', async () => {
      sso.setOptions({ refreshTokens: false });
      const { cookie } = await signIn(app, sso);
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      clock.advance(601_000);
      const res = await request(app).get('/api/me').set('Cookie', cookie).set('Accept', JSON_ACCEPT).expect(401);
      expect(sso.counts.refresh_token).toBe(0);
      expect(setCookieOf(res).find((c) => c.startsWith('sso_session='))).toMatch(/Max-Age=0/);
    });
  });

  // Every endpoint x every fault x {page, API}, with timing and recovery: test/integration/faults.test.ts.
  describe('SSO failures keep the session', () => {
    it('SSO entirely down -> 503 with a short HTML page for navigations', async () => {
      const { cookie } = await signIn(app, sso);
      await sso.down();
      try {
        const res = await request(app).get('/page').set('Cookie', cookie).set('Accept', HTML_ACCEPT).expect(503);
        expect(res.headers['content-type']).toMatch(/text\/html/);
        expect(res.headers['retry-after']).toBe('5');
      } finally {
        await sso.up();
      }
      await request(app).get('/page').set('Cookie', cookie).expect(200);
    });

    it('keeps serving a still-valid token when the early refresh fails upstream', async () => {
      sso.setOptions({ accessTokenTtl: 300 });
      const { cookie } = await signIn(app, sso);
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      clock.advance(280_000);
      sso.setFault('refresh_token', { type: 'status', status: 502 });
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    });

    it('on an optional route, an SSO outage reads as signed out and the request goes on', async () => {
      const a = make({ authRequired: false });
      const { cookie } = await signIn(a, sso);
      sso.setFault('check_token', { type: 'status', status: 500 });
      const res = await request(a).get('/public').set('Cookie', cookie).expect(200);
      expect(res.body.authenticated).toBe(false);
      const guarded = await request(a).get('/guarded').set('Cookie', cookie).set('Accept', JSON_ACCEPT).expect(502);
      expect(guarded.body.error).toBe('upstream_error');
    });
  });

  describe('guards', () => {
    it('authRequired: redirects navigations to login with returnTo', async () => {
      const res = await request(app).get('/page?x=1').set('Accept', HTML_ACCEPT).expect(302);
      expect(res.headers.location).toBe('/login?returnTo=%2Fpage%3Fx%3D1');
    });

    it('treats Sec-Fetch-Mode: navigate as a navigation whatever the Accept header', async () => {
      const res = await request(app).get('/api/me').set('Sec-Fetch-Mode', 'navigate').expect(302);
      expect(res.headers.location).toMatch(/^\/login\?returnTo=/);
    });

    it('answers API calls with 401 JSON and WWW-Authenticate', async () => {
      for (const req of [
        request(app).get('/api/me'),
        request(app).get('/api/me').set('Accept', JSON_ACCEPT),
        request(app).post('/api/write').set('Accept', HTML_ACCEPT),
        request(app).get('/page').set('Sec-Fetch-Mode', 'cors').set('Accept', HTML_ACCEPT),
      ]) {
        const res = await req.expect(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="http://app.test"');
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect(res.body).toEqual({ error: 'unauthenticated', message: 'Sign-in required' });
      }
    });

    it('leaves publicPaths open', async () => {
      const a = make({ publicPaths: ['/public', '/assets/*'] }, (x) =>
        x.get('/assets/app.css', (_q, r) => r.send('css')),
      );
      await request(a).get('/public').expect(200);
      await request(a).get('/assets/app.css').expect(200);
      await request(a).get('/api/me').expect(401);
    });

    it('requiresAuth() protects one route beside a public one', async () => {
      const a = make({ authRequired: false });
      expect((await request(a).get('/public').expect(200)).body.authenticated).toBe(false);
      await request(a).get('/guarded').set('Accept', JSON_ACCEPT).expect(401);
      expect((await request(a).get('/guarded').set('Accept', HTML_ACCEPT).expect(302)).headers.location).toBe(
        '/login?returnTo=%2Fguarded',
      );
      const { cookie } = await signIn(a, sso);
      expect((await request(a).get('/guarded').set('Cookie', cookie).expect(200)).body.authenticated).toBe(true);
    });

    it('requiresAuth({ mode }) forces a redirect or a 401', async () => {
      const a = make({ authRequired: false }, (x) => {
        x.get('/r', requiresAuth({ mode: 'redirect' }), (_q, r) => r.send('x'));
        x.get('/u', requiresAuth({ mode: '401' }), (_q, r) => r.send('x'));
      });
      await request(a).get('/r').set('Accept', JSON_ACCEPT).expect(302);
      const u = await request(a).get('/u').set('Accept', HTML_ACCEPT).expect(401);
      expect(u.headers['content-type']).toMatch(/application\/json/);
      expect(() => requiresAuth({ mode: 'x' as never })).toThrow(/"mode"/);
    });

    it('requiresAuth() without auth() is a clear error', async () => {
      const a = (express as ExpressFactory)();
      a.get('/x', requiresAuth(), (_q, r) => r.send('x'));
      a.use(((err: SsoGuardError, _q, r, _n) =>
        r.status(err.status).send(err.message)) as import('express').ErrorRequestHandler);
      const res = await request(a).get('/x').expect(500);
      expect(res.text).toMatch(/needs auth\(\)/);
    });

    it('renderErrors: false passes an SsoGuardError with status to next()', async () => {
      const seen: SsoGuardError[] = [];
      const a = (express as ExpressFactory)();
      a.use(
        auth({
          ssoBaseUrl: sso.url,
          appBaseUrl: APP_BASE_URL,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          secret: SECRET,
          clock,
          renderErrors: false,
        }),
      );
      a.use(((err: SsoGuardError, _q, r, _n) => {
        seen.push(err);
        r.status(err.status).json({ mine: err.code });
      }) as import('express').ErrorRequestHandler);
      const res = await request(a).get('/api/me').expect(401);
      expect(res.body).toEqual({ mine: 'unauthenticated' });
      expect(seen[0]).toBeInstanceOf(SsoGuardError);
    });

    it('Bearer mode accepts an SSO access token from API clients, never refreshes it', async () => {
      const a = make({ bearer: true });
      const tokens = sso.issueTokens();
      const ok = await request(a).get('/api/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
      expect(ok.body.authenticated).toBe(true);
      expect(ok.headers['set-cookie']).toBeUndefined();
      const bad = await request(a).get('/api/me').set('Authorization', 'Bearer nope').expect(401);
      expect(bad.headers['www-authenticate']).toBe('Bearer realm="http://app.test", error="invalid_token"');
      await request(app).get('/api/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
    });
  });

  describe('session lifetime', () => {
    it('ends a session idle longer than rollingDuration', async () => {
      const a = make({ session: { rollingDuration: 600, absoluteDuration: 86400 } });
      sso.setOptions({ accessTokenTtl: 3600 });
      const { cookie } = await signIn(a, sso);
      clock.advance(601_000);
      const res = await request(a).get('/api/me').set('Cookie', cookie).expect(401);
      expect(setCookieOf(res).find((c) => c.startsWith('sso_session='))).toMatch(/Max-Age=0/);
    });

    it('extends the rolling window by rewriting the cookie only after a tenth of it', async () => {
      const a = make({ session: { rollingDuration: 1000, absoluteDuration: 86400 } });
      sso.setOptions({ accessTokenTtl: 3600 });
      let { cookie } = await signIn(a, sso);
      clock.advance(99_000);
      expect((await request(a).get('/api/me').set('Cookie', cookie).expect(200)).headers['set-cookie']).toBeUndefined();
      clock.advance(2_000);
      const touched = await request(a).get('/api/me').set('Cookie', cookie).expect(200);
      expect(setCookieOf(touched)[0]).toMatch(/^sso_session=.*Max-Age=1000;/);
      cookie = cookiesFrom(setCookieOf(touched), cookie);
      clock.advance(950_000); // idle 950 s since the touch, 1051 s since sign-in
      await request(a).get('/api/me').set('Cookie', cookie).expect(200);
    });

    it('ends a session past absoluteDuration whatever the activity', async () => {
      const a = make({ session: { rollingDuration: 600, absoluteDuration: 900 } });
      sso.setOptions({ accessTokenTtl: 3600 });
      let { cookie } = await signIn(a, sso);
      for (let i = 0; i < 3; i++) {
        clock.advance(299_000);
        const r = await request(a).get('/api/me').set('Cookie', cookie).expect(200);
        cookie = cookiesFrom(setCookieOf(r), cookie);
      }
      clock.advance(5_000);
      await request(a).get('/api/me').set('Cookie', cookie).expect(401);
    });

    it('opens a cookie sealed with an old secret after rotation and reseals it with the new one', async () => {
      const before = make({ secret: OLD_SECRET });
      const { cookie } = await signIn(before, sso);
      const after = make({ secret: [SECRET, OLD_SECRET] });
      const res = await request(after).get('/api/me').set('Cookie', cookie).expect(200);
      const resealed = cookiesFrom(setCookieOf(res), cookie);
      expect(resealed).not.toBe(cookie);
      await request(make({ secret: SECRET }))
        .get('/api/me')
        .set('Cookie', resealed)
        .expect(200);
      await request(make({ secret: SECRET }))
        .get('/api/me')
        .set('Cookie', cookie)
        .expect(401);
    });

    it('reads garbage, tampered and foreign cookies as signed out, clears them, never 5xx', async () => {
      const { cookie } = await signIn(app, sso);
      const value = cookie.split('=')[1]!;
      for (const bad of [
        'sso_session=garbage',
        `sso_session=${value.slice(0, -3)}`,
        `sso_session=${value.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
        'sso_session.0=abc; sso_session.1=def',
        'sso_session=%E0%A4%A',
        `sso_session=${'A'.repeat(12000)}`,
      ]) {
        const res = await request(app).get('/api/me').set('Cookie', bad).expect(401);
        expect(setCookieOf(res).some((c) => /Max-Age=0/.test(c))).toBe(true);
      }
    });
  });
});
