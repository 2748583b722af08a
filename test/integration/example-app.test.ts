import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import request from 'supertest';
import { startEmulator, type Emulator } from '../../lib/testing';
import { EXAMPLE_VERSIONS, TEST_SECRET, cookieHeader, type Env, type StartedExample } from '../e2e/example-app';
import { describeRedis } from '../helpers/describe-redis';
import { REDIS_URL, cleanPrefix } from '../helpers/redis';

/**
 * Signs in through the app's real routes and the emulator's sign-in form (`fields`: the picked
 * `user` or a typed `username`). Returns the Cookie header of the new session.
 */
async function signIn(
  appUrl: string,
  ssoUrl: string,
  fields: Record<string, string> = { user: 'usr-alice' },
): Promise<string> {
  const login = await request(appUrl).get('/login?returnTo=/profile').expect(302);
  const authorize = new URL(String(login.headers.location));
  expect(`${authorize.origin}${authorize.pathname}`).toBe(`${ssoUrl}/sso/oauth2/`);
  // The form posts back the authorize parameters in hidden fields.
  const form = new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), ...fields, action: 'approve' });
  const approved = await fetch(`${ssoUrl}/sso/oauth2/approve`, { method: 'POST', body: form, redirect: 'manual' });
  expect(approved.status).toBe(302);
  const back = new URL(approved.headers.get('location')!);
  expect(back.origin).toBe(new URL(appUrl).origin);
  const callback = await request(appUrl)
    .get(`${back.pathname}${back.search}`)
    .set('Cookie', cookieHeader(login.headers['set-cookie']))
    .expect(302)
    .expect('Location', '/profile');
  return cookieHeader(callback.headers['set-cookie']);
}

/** The example app's `start` on the Express major of the running group. */
let start: (typeof EXAMPLE_VERSIONS)[number][1];
const startQuietly = (env: Env = {}, port = 0): Promise<StartedExample> =>
  start({ env: { SESSION_SECRET: TEST_SECRET, ...env }, port });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const HTML = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe.each(EXAMPLE_VERSIONS)('example app on %s', (_name, startOn, major) => {
  beforeAll(() => {
    start = startOn;
  });
  it('runs on the Express major it names', () => {
    expect(`express ${major}`).toBe(_name);
  });

  describe('example app routes', () => {
    let app: StartedExample;
    let sso: Emulator;
    beforeAll(async () => {
      app = await startQuietly();
      sso = app.emulator!;
    });
    afterAll(() => app.close());

    describe('GET /', () => {
      it('is public, with a sign-in link back to the profile', async () => {
        const res = await request(app.appUrl).get('/').expect(200).expect('Content-Type', /html/);
        expect(res.text).toContain('href="/login?returnTo=/profile"');
      });

      it('names the signed-in user and links to sign out', async () => {
        const cookie = await signIn(app.appUrl, sso.url, { user: 'usr-bob' });
        const res = await request(app.appUrl).get('/').set('Cookie', cookie).expect(200);
        expect(res.text).toContain('Signed in as <b>bob</b>');
        expect(res.text).toContain('href="/logout"');
      });
    });

    describe('GET /profile', () => {
      it('redirects a signed-out navigation to login, returning to /profile', async () => {
        await request(app.appUrl)
          .get('/profile')
          .set(HTML)
          .expect(302)
          .expect('Location', '/login?returnTo=%2Fprofile');
        await request(app.appUrl)
          .get('/profile')
          .set('Sec-Fetch-Mode', 'navigate')
          .expect(302)
          .expect('Location', '/login?returnTo=%2Fprofile');
      });

      it('shows the user and only a masked temporary access key', async () => {
        const cookie = await signIn(app.appUrl, sso.url);
        const { body: me } = await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);
        const accessKey = me.accessKey as string;
        const res = await request(app.appUrl)
          .get('/profile')
          .set('Cookie', cookie)
          .expect(200)
          .expect('Content-Type', /html/);
        expect(res.text).toContain('<dd id="user-name">alice</dd>');
        expect(res.text).toContain('<dd id="user-id">usr-alice</dd>');
        expect(res.text).toContain('alice@example.com');
        expect(res.text).toContain(`<code id="access-key">${accessKey.slice(0, 4)}…${accessKey.slice(-2)}</code>`);
        expect(res.text).not.toContain(accessKey);
        expect(res.text).not.toContain(sso.lookupAccessKey(accessKey)!.secretKey);
      });

      it('escapes what the SSO says about the user', async () => {
        const cookie = await signIn(app.appUrl, sso.url, { username: '<img src=x onerror=alert(1)>' });
        const res = await request(app.appUrl).get('/profile').set('Cookie', cookie).expect(200);
        expect(res.text).not.toContain('<img');
        expect(res.text).toContain('&#60;img src=x onerror=alert(1)&#62;');
      });
    });

    describe('GET /api/me', () => {
      it('answers 401 JSON when signed out', async () => {
        for (const headers of [{}, { Accept: 'application/json' }, { 'Sec-Fetch-Mode': 'cors' }]) {
          const res = await request(app.appUrl).get('/api/me').set(headers).expect(401).expect('Content-Type', /json/);
          expect(res.body).toEqual({ error: 'unauthenticated', message: 'Sign-in required' });
          expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
        }
      });

      it('answers a signed-out navigation with 401 too, never a login redirect', async () => {
        for (const headers of [HTML, { 'Sec-Fetch-Mode': 'navigate' }]) {
          await request(app.appUrl).get('/api/me').set(headers).expect(401);
        }
      });

      it('answers { user, accessKey } when signed in', async () => {
        const cookie = await signIn(app.appUrl, sso.url, { user: 'usr-bob' });
        const res = await request(app.appUrl)
          .get('/api/me')
          .set('Cookie', cookie)
          .expect(200)
          .expect('Content-Type', /json/);
        expect(Object.keys(res.body).sort()).toEqual(['accessKey', 'user']);
        expect(res.body.user).toMatchObject({ user_id: 'usr-bob', user_name: 'bob', email: 'bob@example.com' });
        // The key is the one the SSO issued to this user through check_token.
        expect(sso.lookupAccessKey(res.body.accessKey)?.user.user_id).toBe('usr-bob');
      });
    });

    describe('GET /api/instances', () => {
      it('answers 401 JSON when signed out, without calling the cloud API', async () => {
        sso.resetCounts();
        const res = await request(app.appUrl).get('/api/instances').expect(401).expect('Content-Type', /json/);
        expect(res.body.error).toBe('unauthenticated');
        expect(sso.counts.iam).toBe(0);
      });

      it('returns the answer of a DescribeInstances call signed with the temporary keys', async () => {
        const cookie = await signIn(app.appUrl, sso.url);
        sso.resetCounts();
        const res = await request(app.appUrl).get('/api/instances').set('Cookie', cookie).expect(200);
        expect(res.body).toMatchObject({ ret_code: 0, action: 'DescribeInstancesResponse' });
        expect(res.body.instance_set.length).toBeGreaterThan(0);
        expect(sso.counts.iam).toBe(1);
      });

      it('shows "your instances" on the profile page from one signed call', async () => {
        const cookie = await signIn(app.appUrl, sso.url);
        const res = await request(app.appUrl).get('/profile').set('Cookie', cookie).set(HTML).expect(200);
        expect(res.text).toContain('<h2>Your instances</h2><ul id="instances">');
        expect(res.text).toContain('i-demo0001');
      });
    });

    describe('GET /logout', () => {
      it('clears the session and goes home; the old cookie no longer works', async () => {
        const cookie = await signIn(app.appUrl, sso.url);
        const res = await request(app.appUrl)
          .get('/logout')
          .set('Sec-Fetch-Site', 'same-origin')
          .set('Cookie', cookie)
          .expect(302)
          .expect('Location', '/');
        expect(cookieHeader(res.headers['set-cookie'], cookie)).toBe('');
        await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(401);
      });
    });
  });

  describe('example app AppCenter lifecycle (SPI at /spi, signed calls from the bundled emulator)', () => {
    let app: StartedExample;
    let sso: Emulator;
    beforeAll(async () => {
      app = await startQuietly();
      sso = app.emulator!;
    });
    afterAll(() => app.close());
    const spi = (action: Parameters<Emulator['spi']>[1], params: Record<string, string> = {}) =>
      sso.spi(`${app.appUrl}/spi`, action, params, { retries: 0 });

    it('answers TestConnection', async () => {
      const res = await spi('TestConnection');
      expect(res).toMatchObject({ success: true, body: { success: true } });
    });

    it('refuses a call signed with another secret_app_key, running no handler', async () => {
      const res = await sso.spi(
        `${app.appUrl}/spi`,
        'CreateAppInstance',
        { order_id: 'o-forged', user_id: 'usr-bob' },
        {
          retries: 0,
          secretAppKey: 'not-the-app-key',
        },
      );
      expect(res.success).toBe(false);
      expect(res.attempts[0]!.status).toBe(401);
    });

    it("Create answers the launch URL; Expire ends that user's sessions at once and refuses their next sign-in (403), not another user's", async () => {
      const created = await spi('CreateAppInstance', { order_id: 'o-expire', user_id: 'usr-bob' });
      expect(created.success).toBe(true);
      const { instanceId, appInfo } = created.body as { instanceId: string; appInfo: { authUrl: string } };
      expect(instanceId).toMatch(/^ins-/);
      expect(appInfo).toEqual({ authUrl: `${app.appUrl}/launch` });

      const [bob1, bob2, alice] = [
        await signIn(app.appUrl, sso.url, { user: 'usr-bob' }),
        await signIn(app.appUrl, sso.url, { user: 'usr-bob' }),
        await signIn(app.appUrl, sso.url, { user: 'usr-alice' }),
      ];
      for (const cookie of [bob1, bob2, alice])
        await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);

      expect((await spi('ExpireAppInstance', { instance_id: instanceId })).success).toBe(true);
      for (const cookie of [bob1, bob2]) {
        const res = await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(401);
        expect(cookieHeader(res.headers['set-cookie'], cookie)).toBe('');
      }
      await request(app.appUrl).get('/api/me').set('Cookie', alice).expect(200);
      await expect(signIn(app.appUrl, sso.url, { user: 'usr-bob' })).rejects.toThrow(/403/);

      // Renewed: bob may sign in again.
      expect((await spi('RenewAppInstance', { order_id: 'o-renew', instance_id: instanceId })).success).toBe(true);
      const again = await signIn(app.appUrl, sso.url, { user: 'usr-bob' });
      await request(app.appUrl).get('/api/me').set('Cookie', again).expect(200);

      // Deleted: ended again, for good.
      expect((await spi('DeleteAppInstance', { instance_id: instanceId })).success).toBe(true);
      await request(app.appUrl).get('/api/me').set('Cookie', again).expect(401);
      await spi('RenewAppInstance', { order_id: 'o-renew-deleted', instance_id: instanceId });
      await expect(signIn(app.appUrl, sso.url, { user: 'usr-bob' })).rejects.toThrow(/403/);
    });

    it('answers Upgrade, and Expire of an unknown instance, with success', async () => {
      expect((await spi('UpgradeAppInstance', { order_id: 'o-up', instance_id: 'ins-unknown' })).success).toBe(true);
      expect((await spi('ExpireAppInstance', { instance_id: 'ins-unknown' })).success).toBe(true);
    });

    it("links the home page to the emulator's console, which launches the app at /launch", async () => {
      expect(app.consoleUrl).toBe(`${sso.url}/console`);
      const home = await request(app.appUrl).get('/').expect(200);
      expect(home.text).toContain(`<a id="console" href="${sso.url}/console">`);
      const page = await fetch(app.consoleUrl!).then((r) => r.text());
      expect(page).toContain(`<code>${app.appUrl}/launch</code>`);
      expect(page).toContain(`<code>${app.appUrl}/profile</code>`);
    });
  });

  describe('example app sessions past the access token lifetime', () => {
    let app: StartedExample;
    beforeAll(async () => {
      app = await startQuietly({ EMULATOR_ACCESS_TOKEN_TTL: '1' });
    });
    afterAll(() => app.close());

    it('refreshes the tokens and stays signed in', async () => {
      const cookie = await signIn(app.appUrl, app.ssoUrl);
      app.emulator!.resetCounts();
      await sleep(1100);
      const res = await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);
      expect(res.body.user.user_id).toBe('usr-alice');
      expect(app.emulator!.counts.refresh_token).toBe(1);
      expect(cookieHeader(res.headers['set-cookie'])).toMatch(/^sso_session=/);
    });

    it('answers 401 JSON when the session cannot be renewed', async () => {
      const cookie = await signIn(app.appUrl, app.ssoUrl, { user: 'usr-bob' });
      app.emulator!.revokeUser('usr-bob');
      await sleep(1100);
      const res = await request(app.appUrl)
        .get('/api/me')
        .set('Cookie', cookie)
        .expect(401)
        .expect('Content-Type', /json/);
      expect(res.body.error).toBe('unauthenticated');
      expect(cookieHeader(res.headers['set-cookie'], cookie)).toBe('');
    });
  });

  describe('example app environment', () => {
    let warn: jest.SpyInstance;
    beforeEach(() => {
      warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    });
    afterEach(() => warn.mockRestore());

    /** Starts the app from `env` (on a free port unless `env.PORT` is set), runs `check`, closes it. */
    async function withApp(env: Env, check: (app: StartedExample) => Promise<void>): Promise<void> {
      const app = await start(env.PORT === undefined ? { env, port: 0 } : { env });
      try {
        await check(app);
      } finally {
        await app.close();
      }
    }

    function freePort(): Promise<number> {
      return new Promise((resolve, reject) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as net.AddressInfo;
          probe.close(() => resolve(port));
        });
        probe.on('error', reject);
      });
    }

    const connects = (host: string, port: number): Promise<boolean> =>
      new Promise((resolve) => {
        const socket = net.connect({ host, port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });

    describe('PORT and APP_BASE_URL', () => {
      it('listens on PORT, and APP_BASE_URL defaults to http://localhost:<port>', async () => {
        const port = await freePort();
        await withApp({ SESSION_SECRET: TEST_SECRET, PORT: String(port) }, async (app) => {
          expect(app.appUrl).toBe(`http://localhost:${port}`);
          await request(app.appUrl).get('/').expect(200);
        });
      });

      it('puts the actual port in the default APP_BASE_URL when given port 0, and registers its callback', async () => {
        await withApp({ SESSION_SECRET: TEST_SECRET }, async (app) => {
          expect(app.appUrl).toMatch(/^http:\/\/localhost:[1-9]\d*$/);
          const login = await request(app.appUrl).get('/login').expect(302);
          expect(new URL(String(login.headers.location)).searchParams.get('redirect_uri')).toBe(
            `${app.appUrl}/callback`,
          );
          await signIn(app.appUrl, app.ssoUrl);
        });
      });

      it('listens on 127.0.0.1 only (app and emulator)', async () => {
        const external = Object.values(os.networkInterfaces())
          .flat()
          .find((i) => i && i.family === 'IPv4' && !i.internal);
        await withApp({ SESSION_SECRET: TEST_SECRET }, async (app) => {
          const appPort = Number(new URL(app.appUrl).port);
          expect(await connects('127.0.0.1', appPort)).toBe(true);
          expect(new URL(app.ssoUrl).hostname).toBe('127.0.0.1');
          if (external) {
            expect(await connects(external.address, appPort)).toBe(false);
            expect(await connects(external.address, app.emulator!.port)).toBe(false);
          }
        });
      });

      it('uses APP_BASE_URL (trailing slash dropped) as the callback it registers with the emulator; Secure cookies on https', async () => {
        await withApp({ SESSION_SECRET: TEST_SECRET, APP_BASE_URL: 'https://app.example.test/' }, async (app) => {
          expect(app.appUrl).toBe('https://app.example.test');
          const login = await request(`http://127.0.0.1:${app.port}`).get('/login').expect(302);
          expect(String(login.headers['set-cookie'])).toMatch(/; Secure/);
          const authorize = new URL(String(login.headers.location));
          expect(authorize.searchParams.get('redirect_uri')).toBe('https://app.example.test/callback');
          expect((await fetch(authorize)).status).toBe(200); // the sign-in page
          // Registered exactly: the emulator refuses any other callback, as a real SSO would.
          authorize.searchParams.set('redirect_uri', `http://localhost:${app.port}/callback`);
          expect((await fetch(authorize)).status).toBe(400);
        });
      });

      it('refuses a bad PORT or APP_BASE_URL with a message naming it', async () => {
        await expect(start({ env: { SESSION_SECRET: TEST_SECRET, PORT: 'http' } })).rejects.toThrow(
          /^PORT must be a port number/,
        );
        await expect(start({ env: { SESSION_SECRET: TEST_SECRET, PORT: '70000' } })).rejects.toThrow(
          /^PORT must be a port number/,
        );
        await expect(
          start({ env: { SESSION_SECRET: TEST_SECRET, APP_BASE_URL: 'app.example.test' }, port: 0 }),
        ).rejects.toThrow(/^APP_BASE_URL must be a URL/);
      });
    });

    describe('SSO_BASE_URL, SSO_CLIENT_ID, SSO_CLIENT_SECRET', () => {
      it('uses the bundled emulator with the demo client by default', async () => {
        await withApp({ SESSION_SECRET: TEST_SECRET }, async (app) => {
          expect(app.emulator).toBeDefined();
          expect(app.ssoUrl).toBe(app.emulator!.url);
          const login = await request(app.appUrl).get('/login').expect(302);
          expect(new URL(String(login.headers.location)).searchParams.get('client_id')).toBe('example-client');
        });
      });

      it('gives the bundled emulator SSO_CLIENT_ID and SSO_CLIENT_SECRET when set', async () => {
        await withApp(
          { SESSION_SECRET: TEST_SECRET, SSO_CLIENT_ID: 'my-client', SSO_CLIENT_SECRET: 'my-client-secret' },
          async (app) => {
            const login = await request(app.appUrl).get('/login').expect(302);
            expect(new URL(String(login.headers.location)).searchParams.get('client_id')).toBe('my-client');
            const cookie = await signIn(app.appUrl, app.ssoUrl); // the code exchange authenticates with the secret
            await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);
          },
        );
      });

      it('uses the SSO at SSO_BASE_URL and starts no emulator', async () => {
        const own = await startEmulator({ clientId: 'own-client', clientSecret: 'own-client-secret' });
        try {
          const env = {
            SESSION_SECRET: TEST_SECRET,
            SSO_BASE_URL: own.url,
            SSO_CLIENT_ID: 'own-client',
            SSO_CLIENT_SECRET: 'own-client-secret',
          };
          await withApp(env, async (app) => {
            expect(app.emulator).toBeUndefined();
            expect(app.ssoUrl).toBe(own.url);
            const cookie = await signIn(app.appUrl, own.url, { user: 'usr-bob' });
            const res = await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);
            expect(res.body.user.user_id).toBe('usr-bob');
            expect(own.counts.token).toBe(1);
          });
        } finally {
          await own.close();
        }
      });

      it('uses APPCENTER_CLOUD_INFO for the SSO and cloud API servers instead of the bundled emulator', async () => {
        const own = await startEmulator({ clientId: 'own-client', clientSecret: 'own-client-secret' });
        try {
          const info = Buffer.from(JSON.stringify({ sso_server: own.url, api_server: own.url })).toString('base64');
          const env = {
            SESSION_SECRET: TEST_SECRET,
            APPCENTER_CLOUD_INFO: info,
            SSO_CLIENT_ID: 'own-client',
            SSO_CLIENT_SECRET: 'own-client-secret',
          };
          await withApp(env, async (app) => {
            expect(app.emulator).toBeUndefined();
            expect(app.ssoUrl).toBe(own.url);
            const cookie = await signIn(app.appUrl, own.url, { user: 'usr-bob' });
            await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);
            // The cloud API the profile page calls is cloud_info's api_server.
            await request(app.appUrl).get('/api/instances').set('Cookie', cookie).expect(200);
            expect(own.counts.token).toBe(1);
          });
          await expect(
            start({ env: { SESSION_SECRET: TEST_SECRET, APPCENTER_CLOUD_INFO: info }, port: 0 }),
          ).rejects.toThrow('APPCENTER_CLOUD_INFO is set, so SSO_CLIENT_ID and SSO_CLIENT_SECRET must be set too');
        } finally {
          await own.close();
        }
      });

      it('refuses to start the bundled emulator when NODE_ENV=production and SSO_BASE_URL is unset', async () => {
        const listening = await freePort();
        const env = {
          SESSION_SECRET: TEST_SECRET,
          APPCENTER_SECRET_APP_KEY: 'the-production-secret-app-key',
          NODE_ENV: 'production',
          PORT: String(listening),
        };
        // An app that did start is closed at once, so a failing run does not hang the suite.
        const outcome = await start({ env }).then(
          async (app) => {
            await app.close();
            return 'started';
          },
          (err: Error) => err.message,
        );
        expect(outcome).toMatch(/^SSO_BASE_URL must be set when NODE_ENV=production/);
        // Nothing is left listening: neither the app nor an emulator.
        expect(await connects('127.0.0.1', listening)).toBe(false);
      });

      it('starts in production with SSO_BASE_URL set', async () => {
        const own = await startEmulator({ clientId: 'own-client', clientSecret: 'own-client-secret' });
        try {
          const env = {
            SESSION_SECRET: TEST_SECRET,
            NODE_ENV: 'production',
            SSO_BASE_URL: own.url,
            SSO_CLIENT_ID: 'own-client',
            SSO_CLIENT_SECRET: 'own-client-secret',
            APPCENTER_SECRET_APP_KEY: 'the-production-secret-app-key',
          };
          await withApp(env, async (app) => {
            expect(app.emulator).toBeUndefined();
            expect(app.consoleUrl).toBeUndefined();
            expect(app.spiSecretAppKey).toBe('the-production-secret-app-key');
            const home = await request(app.appUrl).get('/').expect(200);
            expect(home.text).not.toContain('id="console"');
            const test = await own.spi(
              `${app.appUrl}/spi`,
              'TestConnection',
              {},
              {
                secretAppKey: 'the-production-secret-app-key',
                retries: 0,
              },
            );
            expect(test.success).toBe(true);
          });
          // Without APPCENTER_SECRET_APP_KEY, production refuses to start (the SPI checks it).
          await expect(start({ env: { ...env, APPCENTER_SECRET_APP_KEY: undefined }, port: 0 })).rejects.toThrow(
            /^APPCENTER_SECRET_APP_KEY must be set when NODE_ENV=production/,
          );
        } finally {
          await own.close();
        }
      });

      it('refuses SSO_BASE_URL without SSO_CLIENT_ID and SSO_CLIENT_SECRET', async () => {
        const env = { SESSION_SECRET: TEST_SECRET, SSO_BASE_URL: 'http://127.0.0.1:9' };
        await expect(start({ env, port: 0 })).rejects.toThrow(
          'SSO_BASE_URL is set, so SSO_CLIENT_ID and SSO_CLIENT_SECRET must be set too',
        );
        await expect(start({ env: { ...env, SSO_CLIENT_ID: 'x' }, port: 0 })).rejects.toThrow(
          /SSO_CLIENT_SECRET must be set/,
        );
      });

      it("sets the bundled emulator's access token lifetime from EMULATOR_ACCESS_TOKEN_TTL (default one hour)", async () => {
        await withApp({ SESSION_SECRET: TEST_SECRET, EMULATOR_ACCESS_TOKEN_TTL: '3' }, async (app) => {
          expect(app.emulator!.issueTokens().expires_in).toBe(3);
        });
        await withApp({ SESSION_SECRET: TEST_SECRET }, async (app) => {
          expect(app.emulator!.issueTokens().expires_in).toBe(3600);
        });
      });
    });

    describe('SESSION_SECRET', () => {
      it('falls back to a development secret with a loud warning when unset', async () => {
        await withApp({}, async (app) => {
          expect(warn).toHaveBeenCalledTimes(1);
          expect(String(warn.mock.calls[0]![0])).toMatch(/WARNING: SESSION_SECRET is not set/);
          await signIn(app.appUrl, app.ssoUrl);
        });
      });

      it('does not warn when set', async () => {
        await withApp({ SESSION_SECRET: TEST_SECRET }, async () => {
          expect(warn).not.toHaveBeenCalled();
        });
      });

      it('seals sessions with it: a cookie from another secret reads as signed out', async () => {
        let cookie = '';
        await withApp({ SESSION_SECRET: TEST_SECRET }, async (app) => {
          cookie = await signIn(app.appUrl, app.ssoUrl);
          await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(200);
        });
        await withApp({ SESSION_SECRET: `${TEST_SECRET}-other` }, async (app) => {
          await request(app.appUrl).get('/api/me').set('Cookie', cookie).expect(401);
        });
      });

      it('refuses a short SESSION_SECRET, and a missing one when NODE_ENV=production', async () => {
        await expect(start({ env: { SESSION_SECRET: 'too-short' }, port: 0 })).rejects.toThrow(
          /"secret" must be a string of at least 32 characters/,
        );
        await expect(start({ env: { NODE_ENV: 'production' }, port: 0 })).rejects.toThrow(
          'SESSION_SECRET must be set (32+ random characters) when NODE_ENV=production',
        );
        expect(warn).not.toHaveBeenCalled();
      });
    });

    describe('close()', () => {
      it('stops the app and the emulator, even with keep-alive connections open', async () => {
        const app = await start({ env: { SESSION_SECRET: TEST_SECRET }, port: 0 });
        const agent = new http.Agent({ keepAlive: true });
        await request(app.appUrl).get('/').agent(agent).expect(200);
        await app.close();
        agent.destroy();
        expect(await connects('127.0.0.1', app.port)).toBe(false);
        expect(await connects('127.0.0.1', app.emulator!.port)).toBe(false);
      });
    });
  });

  describeRedis('example app with REDIS_URL (two instances behind one APP_BASE_URL)', () => {
    it('shares sessions, the check_token cache and logout through Redis', async () => {
      const sso = await startEmulator({ clientId: 'example-client', clientSecret: 'example-secret' });
      const prefix = 'sso-guard:';
      const env = {
        SESSION_SECRET: TEST_SECRET,
        SSO_BASE_URL: sso.url,
        SSO_CLIENT_ID: 'example-client',
        SSO_CLIENT_SECRET: 'example-secret',
        APP_BASE_URL: 'http://localhost:3000',
        REDIS_URL,
      };
      const [a, b] = [await startQuietly(env), await startQuietly(env)];
      try {
        // The callback URL is APP_BASE_URL's; drive the flow against instance a's own port.
        const login = await request(`http://127.0.0.1:${a.port}`).get('/login?returnTo=/profile').expect(302);
        const form = new URLSearchParams({
          ...Object.fromEntries(new URL(String(login.headers.location)).searchParams),
          user: 'usr-alice',
          action: 'approve',
        });
        const approved = await fetch(`${sso.url}/sso/oauth2/approve`, {
          method: 'POST',
          body: form,
          redirect: 'manual',
        });
        const back = new URL(approved.headers.get('location')!);
        const cb = await request(`http://127.0.0.1:${a.port}`)
          .get(`${back.pathname}${back.search}`)
          .set('Cookie', cookieHeader(login.headers['set-cookie']))
          .expect(302);
        const cookie = cookieHeader(cb.headers['set-cookie']);
        sso.resetCounts();
        await request(`http://127.0.0.1:${a.port}`).get('/api/me').set('Cookie', cookie).expect(200);
        await request(`http://127.0.0.1:${b.port}`).get('/api/me').set('Cookie', cookie).expect(200);
        // The sign-in's check_token answer (asked for the example's `authorize`) is shared: neither asks again.
        expect(sso.counts.check_token).toBe(0);
        await request(`http://127.0.0.1:${b.port}`)
          .get('/logout')
          .set('Sec-Fetch-Site', 'same-origin')
          .set('Cookie', cookie)
          .expect(302);
        await sleep(200);
        await request(`http://127.0.0.1:${a.port}`).get('/api/me').set('Cookie', cookie).expect(401);
      } finally {
        await a.close();
        await b.close();
        await sso.close();
        await cleanPrefix(prefix);
      }
    });
  });
});
