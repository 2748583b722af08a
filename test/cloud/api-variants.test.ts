import request from 'supertest';
import type { Express, ErrorRequestHandler } from 'express';
import type { Emulator } from '../../lib/testing';
import { parseCli } from '../../lib/emulator/cli';
import type { SsoGuardError } from '../../lib/errors';
import { EXPRESS_VERSIONS, createTestApp, signIn, startTestEmulator, type ExpressFactory } from '../helpers/app';
import { fakeClock } from '../helpers/clock';

// The cloud API variants the emulator plays (startEmulator({ cloudApi: { clockOffset, expiredToken } })
// and the bin's flags), and req.sso.cloud working against each, Express 4 and 5.

function cloudRoutes(app: Express): void {
  app.get('/users', async (req, res, next) => {
    try {
      res.json(await req.sso.cloud.call('DescribeUsers'));
    } catch (err) {
      next(err);
    }
  });
  app.use(((err: SsoGuardError & { retCode?: number }, _req, res, _next) => {
    res.status(err.status ?? 500).json({ code: err.code, retCode: err.retCode });
  }) as ErrorRequestHandler);
}

describe.each(EXPRESS_VERSIONS)('req.sso.cloud against the emulator variants (%s)', (_name, express) => {
  const clock = fakeClock(Date.UTC(2026, 0, 1));
  /** How far the app's clock is ahead of the emulator's (the SSO's and the API host's). */
  let appAhead = 0;
  let sso: Emulator | undefined;
  afterEach(async () => {
    await sso?.close();
    sso = undefined;
  });

  async function setUp(cloudApi: Record<string, unknown>, ahead = 0): Promise<{ app: Express; cookie: string }> {
    appAhead = ahead;
    sso = await startTestEmulator({ clock, cloudApi, stsTokenTtl: 600 });
    const app = createTestApp(
      express as ExpressFactory,
      sso,
      { clock: () => clock() + appAhead, cloud: { apiBaseUrl: sso.url }, cache: { ttl: 3600 } },
      cloudRoutes,
    );
    const { cookie } = await signIn(app, sso);
    sso.resetCounts();
    return { app, cookie };
  }

  test.each([
    ['the app clock 90 s ahead', {}, 90_000],
    ['the API host clock 90 s behind (cloudApi.clockOffset)', { clockOffset: -90_000 }, 0],
  ])(
    '%s: the first two calls are re-signed once each, later requests are signed right',
    async (_case, cloudApi, appAhead) => {
      const { app, cookie } = await setUp(cloudApi, appAhead);
      await request(app).get('/users').set('Cookie', cookie).expect(200);
      expect(sso?.counts.iam).toBe(2);
      // One answer re-signs its own call only; a second that agrees moves the shared offset.
      await request(app).get('/users').set('Cookie', cookie).expect(200);
      expect(sso?.counts.iam).toBe(4);
      await request(app).get('/users').set('Cookie', cookie).expect(200);
      await request(app).get('/users').set('Cookie', cookie).expect(200);
      expect(sso?.counts.iam).toBe(6);
    },
  );

  test('auth({ cloudInfo }) signs in against sso_server and calls api_server', async () => {
    sso = await startTestEmulator({ clock });
    const cloudInfo = Buffer.from(
      JSON.stringify({ sso_server: sso.url, api_server: sso.url.replace('127.0.0.1', 'localhost') }),
    ).toString('base64');
    const app = createTestApp(express as ExpressFactory, sso, { clock, ssoBaseUrl: undefined, cloudInfo }, cloudRoutes);
    const { cookie } = await signIn(app, sso);
    expect(sso.counts.token).toBe(1);
    const res = await request(app).get('/users').set('Cookie', cookie).expect(200);
    expect(res.body.ret_code).toBe(0);
    expect(sso.counts.iam).toBe(1);
  });

  test('without the skew, one call per request', async () => {
    const { app, cookie } = await setUp({});
    await request(app).get('/users').set('Cookie', cookie).expect(200);
    expect(sso?.counts.iam).toBe(1);
  });

  test.each([1200, 2000])(
    'cloudApi.expiredToken %d: an expired STS key is answered in an HTTP 200, renewed (check_token again), the call retried once',
    async (code) => {
      const { app, cookie } = await setUp({ expiredToken: code });
      const me = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      // The STS token (600 s) has expired for the emulator; the app's clock, 59 s behind, still
      // gives it 39 s (outside the client's 30 s margin) and its time_stamp is within 60 s.
      clock.advance(620_000);
      appAhead = -59_000;
      sso?.resetCounts();
      const res = await request(app).get('/users').set('Cookie', cookie).expect(200);
      expect(res.body.ret_code).toBe(0);
      expect(sso?.counts.iam).toBe(2);
      expect(sso?.counts.check_token).toBe(1);
      const after = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect(after.body.credentials.accessKey).not.toBe(me.body.credentials.accessKey);
    },
  );

  test.each([1200, 2000])(
    'ret_code %d in an HTTP 200 twice (setFault iam retCode) is a 502 CloudApiError with that ret_code',
    async (code) => {
      const { app, cookie } = await setUp({});
      sso?.setFault('iam', { type: 'retCode', retCode: code }, { times: 2 });
      const res = await request(app).get('/users').set('Cookie', cookie).expect(502);
      expect(res.body).toEqual({ code: 'cloud_api_error', retCode: code });
      expect(sso?.counts.iam).toBe(2);
    },
  );
});

describe('startEmulator cloudApi options', () => {
  test('an expired STS token is answered as configured', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1));
    for (const [expiredToken, status, retCode] of [
      ['status', 401, 1200],
      [1200, 200, 1200],
      [2000, 200, 2000],
    ] as const) {
      const sso = await startTestEmulator({ clock, stsTokenTtl: 60, cloudApi: { expiredToken } });
      try {
        const app = createTestApp(
          EXPRESS_VERSIONS[1][1],
          sso,
          { clock, cloud: { apiBaseUrl: sso.url }, cache: { ttl: 3600 } },
          cloudRoutes,
        );
        const { cookie } = await signIn(app, sso);
        const me = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
        clock.advance(61_000);
        const { signRequest } = await import('../../lib/cloud/signer');
        const s = signRequest(me.body.credentials, { params: { action: 'DescribeUsers' }, now: clock() });
        const res = await fetch(`${sso.url}${s.path}?${s.query}`);
        expect([expiredToken, res.status, ((await res.json()) as { ret_code: number }).ret_code]).toEqual([
          expiredToken,
          status,
          retCode,
        ]);
      } finally {
        await sso.close();
      }
    }
  });

  test.each<[unknown, RegExp]>([
    [{ clockOffset: 'soon' }, /"cloudApi.clockOffset" must be a finite number of milliseconds; received "soon"/],
    [{ expiredToken: 401 }, /"cloudApi.expiredToken" must be "status", 1200 or 2000; received 401/],
    [{ instance: [] }, /"cloudApi" must be true, false or \{ instances, clockOffset, expiredToken \}/],
  ])('refuses %j', async (cloudApi, message) => {
    await expect(startTestEmulator({ cloudApi: cloudApi as never })).rejects.toThrow(message);
  });
});

describe('bin flags', () => {
  test('--cloud-api-clock-offset (seconds) and --cloud-api-expired-token', () => {
    expect(parseCli(['--cloud-api-clock-offset=-90', '--cloud-api-expired-token', '2000'], {})).toEqual({
      help: false,
      options: { cloudApi: { clockOffset: -90_000, expiredToken: 2000 } },
    });
    expect(parseCli(['--cloud-api-clock-offset', '30'], {})).toEqual({
      help: false,
      options: { cloudApi: { clockOffset: 30_000 } },
    });
    expect(parseCli(['--cloud-api-expired-token', 'status'], {})).toEqual({
      help: false,
      options: { cloudApi: { expiredToken: 'status' } },
    });
  });

  test.each([
    [['--cloud-api-clock-offset', 'x'], /--cloud-api-clock-offset must be a number of seconds/],
    [['--cloud-api-clock-offset=1e9'], /--cloud-api-clock-offset must be a number of seconds from -86400 to 86400/],
    [['--cloud-api-expired-token', '1300'], /--cloud-api-expired-token must be "status", "1200" or "2000"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCli(argv, {})).toThrow(message);
  });
});
