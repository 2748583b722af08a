import { inspect } from 'node:util';
import request from 'supertest';
import type { Express, ErrorRequestHandler } from 'express';
import type { Emulator } from '../../lib/testing';
import { SsoGuardError } from '../../lib/errors';
import {
  EXPRESS_VERSIONS,
  createTestApp,
  setCookieOf,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { fakeClock, type FakeClock } from '../helpers/clock';
import { CLIENT_SECRET, SECRET } from '../helpers/options';
import { openSession } from '../helpers/session';

/** Routes that use req.sso.cloud the way an app would. */
function cloudRoutes(app: Express): void {
  app.get('/instances', async (req, res, next) => {
    try {
      res.json(await req.sso.cloud.call('DescribeInstances', { zone: 'pek3', 'status.1': 'running' }));
    } catch (err) {
      next(err);
    }
  });
  app.post('/users', async (req, res, next) => {
    try {
      res.json(await req.sso.cloud.call('DescribeUsers', {}, { method: 'POST' }));
    } catch (err) {
      next(err);
    }
  });
  app.get('/forbidden', async (req, res, next) => {
    try {
      res.json(await req.sso.cloud.call('TerminateInstances', { 'instances.1': 'i-1' }));
    } catch (err) {
      next(err);
    }
  });
  app.use(((err: SsoGuardError & { retCode?: number }, _req, res, _next) => {
    res.status(err.status ?? 500).json({ code: err.code, retCode: err.retCode, message: err.message });
  }) as ErrorRequestHandler);
}

/** Every own property, enumerable or not, symbol-keyed too: what a careless deep copy takes. */
function structuredCopy(o: object): Record<PropertyKey, unknown> {
  const out: Record<PropertyKey, unknown> = {};
  for (const k of Reflect.ownKeys(o)) out[k] = (o as Record<PropertyKey, unknown>)[k];
  return out;
}

describe.each(EXPRESS_VERSIONS)('req.sso (%s)', (_name, express) => {
  let sso: Emulator;
  let clock: FakeClock;
  /** The emulator runs ahead of the app by this many ms (clock skew between hosts). */
  let skew = 0;

  beforeAll(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock: () => clock() + skew, accessTokenTtl: 3600, stsTokenTtl: 600 });
  });
  afterAll(() => sso.close());
  beforeEach(() => {
    skew = 0;
    sso.resetCounts();
    sso.clearFaults();
  });

  const make = (options = {}, extra?: (app: Express) => void) =>
    createTestApp(express as ExpressFactory, sso, { clock, cloud: { apiBaseUrl: sso.url }, ...options }, (app) => {
      extra?.(app);
      cloudRoutes(app);
    });

  it('exposes user, credentials, expiresAt and isAuthenticated()', async () => {
    const app = make({ authRequired: false }, (a: Express) => {
      a.get('/expiry', (req, res) => res.json({ expiresAt: req.sso.expiresAt ?? null }));
    });
    const anon = await request(app).get('/public').expect(200);
    expect(anon.body).toMatchObject({ authenticated: false, user: null, credentials: null });
    expect((await request(app).get('/expiry').expect(200)).body).toEqual({ expiresAt: null });
    const signedInAt = clock();
    const { cookie } = await signIn(app, sso);
    const me = await request(app).get('/public').set('Cookie', cookie).expect(200);
    expect(me.body.authenticated).toBe(true);
    expect(me.body.user).toMatchObject({ user_id: 'usr-alice', user_name: expect.any(String) });
    expect(me.body.reqUser).toEqual(me.body.user);
    // The credentials are the temporary keys the emulator issued for this user's access token.
    const issued = sso.lookupAccessKey(me.body.credentials.accessKey);
    expect(issued).toBeDefined();
    expect(me.body.credentials).toEqual({
      accessKey: me.body.credentials.accessKey,
      secretKey: issued!.secretKey,
      token: issued!.token,
    });
    const { expiresAt } = (await request(app).get('/expiry').set('Cookie', cookie).expect(200)).body;
    expect(expiresAt).toBe(openSession(cookie).expiresAt * 1000);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(signedInAt / 1000) * 1000 + 3600_000);
    expect(expiresAt).toBeLessThanOrEqual(signedInAt + 3600_000);
  });

  describe('signed out', () => {
    const reads = (a: Express) => {
      a.get('/read/user', (req, res) => res.json({ id: req.sso.user.user_id }));
      a.get('/read/credentials', (req, res) => res.json({ ak: req.sso.credentials.accessKey }));
      a.get('/read/thrown', (req, res) => {
        try {
          res.json({ value: req.sso.user });
        } catch (err) {
          res.json({
            isGuardError: err instanceof SsoGuardError,
            code: (err as SsoGuardError).code,
            status: (err as SsoGuardError).status,
          });
        }
      });
    };

    it.each(['/read/user', '/read/credentials'])(
      'reading %s answers 401 unauthenticated, never undefined',
      async (path) => {
        const app = make({ authRequired: false }, reads);
        const res = await request(app).get(path).expect(401);
        expect(res.text).not.toContain('undefined');
      },
    );

    it('throws an SsoGuardError (unauthenticated, 401) from the accessors', async () => {
      const app = make({ authRequired: false }, reads);
      const res = await request(app).get('/read/thrown').expect(200);
      expect(res.body).toEqual({ isGuardError: true, code: 'unauthenticated', status: 401 });
    });
  });

  describe('printing', () => {
    const printRoutes = (a: Express) => {
      a.get('/print', (req, res) => {
        const keys = Object.keys(req.sso);
        res.json({
          inspected: inspect(req.sso, { depth: 10, showHidden: true }),
          json: JSON.stringify(req.sso),
          spread: JSON.stringify({ ...req.sso }),
          keys,
        });
      });
    };

    it('util.inspect and JSON.stringify show who is signed in, never a token, key or secret', async () => {
      const app = make({ authRequired: false }, printRoutes);
      const { cookie } = await signIn(app, sso);
      const session = openSession(cookie);
      const me = (await request(app).get('/api/me').set('Cookie', cookie).expect(200)).body;
      const res = await request(app).get('/print').set('Cookie', cookie).expect(200);
      const { inspected, json, spread, keys } = res.body as {
        inspected: string;
        json: string;
        spread: string;
        keys: string[];
      };
      expect(inspected).toContain('usr-alice');
      expect(JSON.parse(json)).toEqual({
        authenticated: true,
        user: { user_id: 'usr-alice', user_name: me.user.user_name },
        expiresAt: session.expiresAt * 1000,
      });
      const secrets = [
        session.accessToken,
        session.refreshToken!,
        me.credentials.accessKey,
        me.credentials.secretKey,
        me.credentials.token,
        SECRET,
        CLIENT_SECRET,
      ];
      for (const secret of secrets) {
        expect(inspected).not.toContain(secret);
        expect(json).not.toContain(secret);
        expect(spread).not.toContain(secret);
      }
      // Internals are neither own keys nor printed.
      expect(keys).not.toEqual(expect.arrayContaining(['outcome']));
      for (const word of ['outcome', 'req', 'res', 'hooks', 'session'])
        expect(inspected).not.toMatch(new RegExp(`\\b${word}\\b`));
    });

    it('copies of req.sso (spread, Object.assign, inspect without its custom inspector) hold no token or key', async () => {
      const app = make({ authRequired: false }, (a) => {
        a.get('/copies', (req, res) => {
          const opts = { depth: 10, showHidden: true, customInspect: false } as const;
          const spread = { ...req.sso };
          const assigned = Object.assign({}, req.sso);
          res.json({
            printed: [
              inspect(spread, opts),
              inspect(assigned, opts),
              inspect(req.sso, opts),
              inspect(structuredCopy(req.sso), opts),
            ],
            user: req.sso.user.user_id,
            accessKey: req.sso.credentials.accessKey,
            authenticated: req.sso.isAuthenticated(),
            copyKeys: Reflect.ownKeys(spread).map(String),
          });
        });
      });
      const { cookie } = await signIn(app, sso);
      const session = openSession(cookie);
      const me = (await request(app).get('/api/me').set('Cookie', cookie).expect(200)).body;
      const res = await request(app).get('/copies').set('Cookie', cookie).expect(200);
      const body = res.body as {
        printed: string[];
        user: string;
        accessKey: string;
        authenticated: boolean;
        copyKeys: string[];
      };
      // The accessors still work on req.sso itself.
      expect(body).toMatchObject({ user: 'usr-alice', accessKey: me.credentials.accessKey, authenticated: true });
      const secrets = [session.accessToken, session.refreshToken!, me.credentials.secretKey, me.credentials.token];
      for (const printed of body.printed) {
        for (const secret of secrets) expect(printed).not.toContain(secret);
        // Not even the names of the internals (outcome, hooks, request, response).
        expect(printed).not.toMatch(/\b(outcome|hooks|req|res)\b/);
      }
      expect(body.copyKeys.filter((k) => k !== 'error')).toEqual([]);
    });

    it('prints a signed-out context as such', async () => {
      const app = make({ authRequired: false }, printRoutes);
      const res = await request(app).get('/print').expect(200);
      expect(JSON.parse(res.body.json)).toEqual({ authenticated: false });
      expect(res.body.inspected).toBe('SsoContext { authenticated: false }');
    });
  });

  describe('cloud', () => {
    it('signs a call with the temporary keys (GET) and the emulator verifies it', async () => {
      const app = make();
      const { cookie } = await signIn(app, sso);
      const res = await request(app).get('/instances').set('Cookie', cookie).expect(200);
      expect(res.body.ret_code).toBe(0);
      expect(res.body.instance_set.length).toBeGreaterThan(0);
      expect(
        res.body.instance_set.every(
          (i: { status: string; zone: string }) => i.status === 'running' && i.zone === 'pek3',
        ),
      ).toBe(true);
      expect(sso.counts.iam).toBe(1);
    });

    it('signs POST calls as a form body', async () => {
      const app = make();
      const { cookie } = await signIn(app, sso);
      const res = await request(app).post('/users').set('Cookie', cookie).expect(200);
      expect(res.body.user_set[0].user_id).toBeTruthy();
    });

    it('surfaces API refusals as CloudApiError with ret_code and no secret', async () => {
      const app = make();
      const { cookie } = await signIn(app, sso);
      const me = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      const res = await request(app).get('/forbidden').set('Cookie', cookie).expect(502);
      expect(res.body).toMatchObject({ code: 'cloud_api_error', retCode: 1400 });
      for (const secret of [me.body.credentials.secretKey, me.body.credentials.token])
        expect(res.text).not.toContain(secret);
    });

    it('renews expired temporary credentials transparently: API 401 -> check_token again -> retry once', async () => {
      const app = make({ cache: { ttl: 3600 } });
      const { cookie } = await signIn(app, sso);
      const before = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      // 40 s before the STS token's exp on the app's clock (outside the client's 30 s margin), but
      // the API host's clock runs 59 s ahead (time_stamp still accepted): the API says 401.
      clock.advance(560_000);
      skew = 59_000;
      sso.resetCounts();
      const res = await request(app).get('/instances').set('Cookie', cookie);
      expect(res.body).toMatchObject({ ret_code: 0 });
      expect(res.status).toBe(200);
      expect(sso.counts.iam).toBe(2);
      expect(sso.counts.check_token).toBe(1);
      const after = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect(after.body.credentials.accessKey).not.toBe(before.body.credentials.accessKey);
    });

    it('refreshes the session when check_token rejects the token while renewing credentials', async () => {
      const app = make({ cache: { ttl: 3600 } });
      const { cookie } = await signIn(app, sso);
      await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      clock.advance(560_000);
      skew = 59_000;
      // check_token refuses the access token once (as if revoked); the refresh token still works.
      sso.setFault('check_token', { type: 'retCode', retCode: 2200, message: 'invalid token' }, { times: 1 });
      sso.resetCounts();
      const res = await request(app).get('/instances').set('Cookie', cookie).expect(200);
      expect(res.body.ret_code).toBe(0);
      expect(sso.counts.refresh_token).toBe(1);
      const renewed = setCookieOf(res).find((c) => c.startsWith('sso_session='));
      expect(renewed).toBeDefined();
      expect(openSession(renewed!.split(';')[0]!).accessToken).not.toBe(openSession(cookie).accessToken);
    });

    it('refuses calls without a session (401, no API call)', async () => {
      const app = make({ authRequired: false });
      const res = await request(app).get('/instances').expect(401);
      expect(res.body.code).toBe('unauthenticated');
      expect(sso.counts.iam).toBe(0);
    });

    it('needs cloud.apiBaseUrl', async () => {
      const app = createTestApp(express as ExpressFactory, sso, { clock }, cloudRoutes);
      const { cookie } = await signIn(app, sso);
      const res = await request(app).get('/instances').set('Cookie', cookie).expect(500);
      expect(res.body.message).toMatch(/"cloud.apiBaseUrl"/);
    });

    it.each([
      [{ type: 'status', status: 500 }, 502],
      [{ type: 'garbage' }, 502],
      [{ type: 'reset' }, 503],
      [{ type: 'slow', delayMs: 1500 }, 504],
    ] as const)('maps a cloud API fault %j to %d', async (fault, status) => {
      const app = make({ cloud: { apiBaseUrl: sso.url, timeout: 400 } });
      const { cookie } = await signIn(app, sso);
      sso.setFault('iam', fault);
      await request(app).get('/instances').set('Cookie', cookie).expect(status);
    });
  });
});
