import { format, inspect } from 'node:util';
import createDebug from 'debug';
import type { ErrorRequestHandler, Express } from 'express';
import { auth } from '../../lib/express/middleware';
import type { SsoGuardOptions } from '../../lib/options';
import type { Emulator, Fault } from '../../lib/testing';
import { APP_BASE_URL, EXPRESS_VERSIONS, cookiesFrom, startTestEmulator, type ExpressFactory } from '../helpers/app';
import { fakeClock } from '../helpers/clock';
import { CLIENT_ID, CLIENT_SECRET, OLD_SECRET, SECRET } from '../helpers/options';
import { serve, trackUnhandledRejections, type Answer, type Served } from '../helpers/serve';
import { openSession } from '../helpers/session';

// Secrets stay secret: the integration flows run with every `debug` namespace on and the console
// captured; no access token, refresh token, secret key, STS token, client secret or session
// secret may appear in a log line, an error (message, stack, cause chain), a response body, a
// header or a Location. State comparison is constant-time on the real /callback path.

trackUnhandledRejections();

const HTTP_TIMEOUT = 300;
const WRONG_CLIENT_SECRET = 'a-wrong-client-secret-value-xyz';
const HTML = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';

/** Everything the package (and the emulator it ships) printed or answered. */
const logs: string[] = [];
const errors: unknown[] = [];
const responses: Answer[] = [];
/** Every secret seen during the flows; checked against all of the above at the end. */
const secrets = new Set<string>([CLIENT_SECRET, SECRET, OLD_SECRET, WRONG_CLIENT_SECRET]);

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (
    let e: unknown = err, depth = 0;
    e !== undefined && e !== null && depth < 6;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    parts.push(String((e as Error).message), String((e as Error).stack), inspect(e, { depth: 8, showHidden: true }));
  }
  return parts.join('\n');
}

function responseText(r: Answer): string {
  return `${r.status}\n${inspect(r.headers, { depth: 3 })}\n${r.body}`;
}

/** Adds the tokens of every session cookie a response set (opened with the test secrets). */
function collectTokens(r: Answer): void {
  const cookie = cookiesFrom(r.setCookie);
  if (!/sso_session(\.\d+)?=/.test(cookie)) return;
  for (const secret of [SECRET, OLD_SECRET]) {
    try {
      const s = openSession(cookie, secret);
      secrets.add(s.accessToken);
      if (s.refreshToken !== undefined) secrets.add(s.refreshToken);
    } catch {
      // sealed with the other secret
    }
  }
}

const originalLog = createDebug.log;
const previousNamespaces = createDebug.disable();
let consoleSpies: jest.SpyInstance[] = [];

beforeAll(() => {
  createDebug.enable('*');
  createDebug.log = (...args: unknown[]) => {
    logs.push(format(...args));
  };
  consoleSpies = (['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) =>
    jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      logs.push(format(...args));
    }),
  );
});

afterAll(() => {
  createDebug.log = originalLog;
  createDebug.disable();
  if (previousNamespaces) createDebug.enable(previousNamespaces);
  for (const s of consoleSpies) s.mockRestore();
});

describe.each(EXPRESS_VERSIONS)('secrets stay out of logs, errors and answers (%s)', (_name, express) => {
  let sso: Emulator;
  const clock = fakeClock(Date.now());

  beforeAll(async () => {
    sso = await startTestEmulator({ clock, accessTokenTtl: 600, cloudApi: true, logger: (line) => logs.push(line) });
  });
  afterAll(() => sso.close());
  afterEach(async () => {
    sso.clearFaults();
    sso.setOptions({ errorStyle: 'status' });
    await sso.up();
  });

  /** An app that records the credentials it is given (to know them) but never shows them. */
  function makeApp(options: SsoGuardOptions = {}): Express {
    const app = (express as ExpressFactory)();
    app.use(
      auth({
        ssoBaseUrl: sso.url,
        appBaseUrl: APP_BASE_URL,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        secret: SECRET,
        clock,
        httpTimeout: HTTP_TIMEOUT,
        cloud: { apiBaseUrl: sso.url },
        ...options,
      }),
    );
    const note = (req: Express['request']) => {
      if (req.sso.isAuthenticated()) {
        const c = req.sso.credentials;
        secrets.add(c.secretKey);
        secrets.add(c.token);
      }
    };
    app.get('/api/me', (req, res) => {
      note(req);
      res.json({ user: req.sso.isAuthenticated() ? req.sso.user.user_id : null });
    });
    app.get('/page', (req, res) => {
      note(req);
      res.type('html').send(`<p>${req.sso.isAuthenticated() ? req.sso.user.user_name : 'anonymous'}</p>`);
    });
    app.get('/api/instances', async (req, res, next) => {
      note(req);
      try {
        res.json(await req.sso.cloud.call('DescribeInstances', { zone: 'pek3' }));
      } catch (err) {
        next(err);
      }
    });
    app.use(((err, _req, res, _next) => {
      errors.push(err);
      res
        .status((err as { status?: number }).status ?? 500)
        .json({ error: (err as { code?: string }).code ?? 'error' });
    }) as ErrorRequestHandler);
    return app;
  }

  async function withApp<T>(options: SsoGuardOptions, run: (s: Served) => Promise<T>): Promise<T> {
    const served = await serve(makeApp(options));
    const original = served.request;
    served.request = async (...args) => {
      const r = await original(...args);
      responses.push(r);
      collectTokens(r);
      return r;
    };
    served.get = (path, headers) => served.request('GET', path, headers);
    try {
      return await run(served);
    } finally {
      await served.close();
    }
  }

  /** Signs in through the real routes and the emulator's authorize endpoint. */
  async function signIn(s: Served, returnTo = '/page'): Promise<string> {
    const login = await s.get(`/login?returnTo=${encodeURIComponent(returnTo)}`);
    const authorize = await fetch(login.headers.location!, { redirect: 'manual' });
    const back = new URL(authorize.headers.get('location')!);
    const cb = await s.get(back.pathname + back.search, { cookie: cookiesFrom(login.setCookie) });
    expect(cb.status).toBe(302);
    return cookiesFrom(cb.setCookie);
  }

  const FAULTS: Fault[] = [
    { type: 'reset' },
    { type: 'hang' },
    { type: 'status', status: 500 },
    { type: 'status', status: 503 },
    { type: 'garbage' },
    { type: 'truncated' },
    { type: 'missingFields' },
    { type: 'huge', bytes: 512 * 1024 },
    { type: 'retCode', retCode: 2100, message: 'invalid grant' },
  ];

  it.each([
    ['errors rendered by the middleware', {}, 0],
    ['errors passed to next()', { renderErrors: false }, 1],
  ] as const)(
    'sign-in, API, pages, cloud calls, refresh, rotation, faults and logout (%s)',
    async (_label, options, flip) => {
      await withApp(options, async (s) => {
        let cookie = await signIn(s);
        for (const mode of [{ accept: 'application/json' }, { accept: HTML }]) {
          expect((await s.get('/api/me', { cookie, ...mode })).status).toBe(200);
          expect((await s.get('/page', { cookie, ...mode })).status).toBe(200);
        }
        expect((await s.get('/api/instances', { cookie })).status).toBe(200);

        // Refresh (expired), then a late request with the pre-refresh cookie adopting the outcome.
        clock.advance(601_000);
        const refreshed = await s.get('/api/me', { cookie });
        expect(refreshed.status).toBe(200);
        expect((await s.get('/api/me', { cookie })).status).toBe(200);
        cookie = cookiesFrom(refreshed.setCookie, cookie);

        // Every fault on every endpoint, page and API.
        // Page and API answers alternate from one fault to the next (the other way round in the other run).
        for (const [i, fault] of FAULTS.entries()) {
          {
            const accept = (i + flip) % 2 === 0 ? 'application/json' : HTML;
            sso.setFault('check_token', fault, { times: 1 });
            clock.advance(301_000); // past the check_token cache TTL
            const checked = await s.get('/api/me', { cookie, accept });
            cookie = cookiesFrom(checked.setCookie, cookie);
            sso.setFault('refresh_token', fault, { times: 1 });
            clock.advance(601_000);
            const r = await s.get('/page', { cookie, accept });
            if (r.status === 200) cookie = cookiesFrom(r.setCookie, cookie);
            else if (r.status < 500) cookie = await signIn(s);
            sso.setFault('iam', fault, { times: 2 });
            await s.get('/api/instances', { cookie, accept });
            // The token endpoint, through /callback.
            const login = await s.get('/login');
            const state = new URL(login.headers.location!).searchParams.get('state')!;
            const code = sso.approve({ redirectUri: `${APP_BASE_URL}/callback` });
            sso.setFault('token', fault, { times: 1 });
            await s.get(`/callback?code=${code}&state=${state}`, { cookie: cookiesFrom(login.setCookie), accept });
            sso.clearFaults();
          }
        }
        cookie = await signIn(s);

        // The SSO down altogether.
        await sso.down();
        clock.advance(601_000);
        await s.get('/api/me', { cookie });
        await s.get('/page', { cookie, accept: HTML });
        await sso.up();

        // Refusals: a revoked access token, then the whole user; the ret_code error style.
        const me = await s.get('/api/me', { cookie });
        cookie = cookiesFrom(me.setCookie, cookie);
        sso.revokeToken(openSession(cookie).accessToken);
        clock.advance(301_000);
        const renewed = await s.get('/api/me', { cookie });
        cookie = cookiesFrom(renewed.setCookie, cookie);
        sso.setOptions({ errorStyle: 'ret_code' });
        sso.revokeUser('usr-alice');
        clock.advance(301_000);
        await s.get('/api/me', { cookie });
        await s.get('/page', { cookie, accept: HTML });
        sso.setOptions({ errorStyle: 'status' });

        // Callback errors: forged state, access_denied, a replayed code.
        cookie = await signIn(s);
        await s.get('/callback?code=x&state=forged');
        await s.get('/callback?error=access_denied&error_description=denied');
        const login = await s.get('/login');
        const state = new URL(login.headers.location!).searchParams.get('state')!;
        const code = sso.approve({ redirectUri: `${APP_BASE_URL}/callback` });
        await s.get(`/callback?code=${code}&state=${state}`, { cookie: cookiesFrom(login.setCookie) });
        const again = await s.get('/login');
        const state2 = new URL(again.headers.location!).searchParams.get('state')!;
        expect(
          (
            await s.get(`/callback?code=${code}&state=${state2}`, {
              cookie: cookiesFrom(again.setCookie),
              accept: 'application/json',
            })
          ).status,
        ).toBe(400);

        // Logout, and the logged-out cookie replayed.
        await s.get('/logout?returnTo=/bye', { cookie, 'sec-fetch-site': 'same-origin' });
        await s.get('/api/me', { cookie });
      });
    },
    60_000,
  );

  it('a wrong client secret, Bearer mode and key rotation', async () => {
    await withApp({ clientSecret: WRONG_CLIENT_SECRET }, async (s) => {
      const login = await s.get('/login');
      const authorize = await fetch(login.headers.location!, { redirect: 'manual' });
      const back = new URL(authorize.headers.get('location')!);
      expect((await s.get(back.pathname + back.search, { cookie: cookiesFrom(login.setCookie) })).status).toBe(400);
    });
    await withApp({ bearer: true }, async (s) => {
      const tokens = sso.issueTokens();
      secrets.add(tokens.access_token);
      secrets.add(tokens.refresh_token!);
      expect((await s.get('/api/me', { authorization: `Bearer ${tokens.access_token}` })).status).toBe(200);
      expect((await s.get('/api/instances', { authorization: `Bearer ${tokens.access_token}` })).status).toBe(200);
      await s.get('/api/me', { authorization: `Bearer ${tokens.refresh_token}` });
      sso.setFault('check_token', { type: 'status', status: 500 }, { times: 1 });
      const other = sso.issueTokens();
      secrets.add(other.access_token);
      await s.get('/api/me', { authorization: `Bearer ${other.access_token}` });
    });
    const old = await withApp({ secret: OLD_SECRET }, (s) => signIn(s));
    await withApp({ secret: [SECRET, OLD_SECRET] }, async (s) => {
      const res = await s.get('/api/me', { cookie: old });
      expect(res.status).toBe(200);
      expect(res.setCookie.some((c) => c.startsWith('sso_session='))).toBe(true);
    });
  });

  it('compares the state in constant time on the real /callback path', async () => {
    const nodeCrypto = require('node:crypto') as typeof import('node:crypto');
    const spy = jest.spyOn(nodeCrypto, 'timingSafeEqual');
    try {
      await withApp({}, async (s) => {
        const login = await s.get('/login?returnTo=/x');
        const state = new URL(login.headers.location!).searchParams.get('state')!;
        const authorize = await fetch(login.headers.location!, { redirect: 'manual' });
        const back = new URL(authorize.headers.get('location')!);
        spy.mockClear();
        const cb = await s.get(back.pathname + back.search, { cookie: cookiesFrom(login.setCookie) });
        expect(cb.status).toBe(302);
        const compared = spy.mock.calls.map(([a, b]) => [
          Buffer.from(a as Uint8Array).toString(),
          Buffer.from(b as Uint8Array).toString(),
        ]);
        expect(compared).toContainEqual([state, state]);
      });
    } finally {
      spy.mockRestore();
    }
  });
});

describe('configuration errors never echo a secret', () => {
  it.each([
    ['a short secret', { secret: 'short-session-secret' }],
    ['a short secret among good ones', { secret: [SECRET, 'short-one-in-array'] }],
    ['a bad secret type beside a good one', { secret: [SECRET, 42 as unknown as string] }],
    ['an unknown option', { secrett: SECRET } as SsoGuardOptions],
    ['a bad URL next to the secrets', { ssoBaseUrl: 'not a url' }],
  ])('%s', (_label, bad) => {
    let thrown: unknown;
    try {
      auth({
        ssoBaseUrl: 'http://127.0.0.1:9',
        appBaseUrl: APP_BASE_URL,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        secret: SECRET,
        ...bad,
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeDefined();
    const text = errorText(thrown);
    for (const s of [SECRET, CLIENT_SECRET, 'short-session-secret', 'short-one-in-array'])
      expect(text).not.toContain(s);
  });
});

describe('what was captured', () => {
  it('captured the package logs and errors (the check below is not vacuous)', () => {
    expect(logs.some((l) => l.includes('express-sso-guard:routes') && l.includes('session started'))).toBe(true);
    expect(logs.some((l) => l.includes('express-sso-guard:session') && l.includes('upstream failure'))).toBe(true);
    expect(logs.some((l) => l.includes('express-sso-guard:refresh'))).toBe(true);
    expect(logs.some((l) => l.includes('express-sso-guard:cloud'))).toBe(true);
    expect(logs.some((l) => l.includes('/sso/token/'))).toBe(true); // the emulator's own log
    expect(errors.length).toBeGreaterThan(10);
    expect(responses.length).toBeGreaterThan(200);
    // Tokens, secret keys and STS tokens of both Express runs, and the configured secrets.
    expect(secrets.size).toBeGreaterThan(40);
  });

  it('no secret in any log line, error, response body, header or Location', () => {
    const haystacks: [string, string][] = [
      ...logs.map((l, i): [string, string] => [`log #${i}`, l]),
      ...errors.map((e, i): [string, string] => [`error #${i}`, errorText(e)]),
      ...responses.map((r, i): [string, string] => [`response #${i}`, responseText(r)]),
    ];
    const leaks: string[] = [];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(16);
      for (const [where, text] of haystacks)
        if (text.includes(secret)) leaks.push(`${where} holds ${secret.slice(0, 6)}…: ${text.slice(0, 300)}`);
    }
    expect(leaks).toEqual([]);
  });
});
