import { sessionCookieFor } from '../helpers/parts';
import fc from 'fast-check';
import type { Express } from 'express';
import { SessionCookie, type SessionData } from '../../lib/session/session-cookie';
import type { Emulator, Fault } from '../../lib/testing';
import {
  APP_BASE_URL,
  EXPRESS_VERSIONS,
  cookiesFrom,
  createTestApp,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { fakeClock, type FakeClock } from '../helpers/clock';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';
import { startRawSso, type RawSso } from '../helpers/raw-sso';
import { serve, trackUnhandledRejections, type Answer, type Served } from '../helpers/serve';
import { openSession } from '../helpers/session';
import { REFLECTION_MARK, answerArb, expectedOutcome, parsedBody, type JsonEndpoint } from '../helpers/sso-answers';
import { auth } from '../../lib/express/middleware';

// Fault injection: every SSO endpoint x every failure x {page, API} over real HTTP,
// with the answer's status and timing, the session kept through transient faults, and recovery;
// a refresh storm; and any answer of each endpoint mapped to its documented outcome. FAULTS and
// REFUSALS reach every row of the README's "What ends a session" table (lib/sso/classify.ts).

trackUnhandledRejections();

const HTTP_TIMEOUT = 300;
/** How late an answer may come past `httpTimeout` on a busy 2-core machine. */
const MARGIN = 300;
const TTL = 600;
const REDIRECT_URI = `${APP_BASE_URL}/callback`;
const HTML = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';
const MODES = {
  page: { path: '/page', accept: HTML, contentType: /^text\/html/ },
  API: { path: '/api/me', accept: 'application/json', contentType: /^application\/json/ },
} as const;
type Mode = keyof typeof MODES;

const ENDPOINTS = ['token', 'check_token', 'refresh_token'] as const;

/** What the SSO does, and the status the user must get for it. `down` stops the whole SSO. */
const FAULTS: [string, Fault | 'down', number][] = [
  ['down', 'down', 503],
  ['connection reset', { type: 'reset' }, 503],
  ['slow past the timeout', { type: 'slow', delayMs: HTTP_TIMEOUT * 4 }, 504],
  ['hanging', { type: 'hang' }, 504],
  ['HTTP 500', { type: 'status', status: 500 }, 502],
  ['HTTP 502', { type: 'status', status: 502 }, 502],
  ['HTTP 503', { type: 'status', status: 503 }, 503],
  ['HTTP 504', { type: 'status', status: 504 }, 504],
  ['garbage (HTML maintenance page)', { type: 'garbage' }, 502],
  ['truncated JSON', { type: 'truncated' }, 502],
  ['JSON without the fields', { type: 'missingFields' }, 502],
  ['a 10 MB body', { type: 'huge' }, 502],
  // A proxy's or WAF's page, or a transient ret_code, is not the SSO refusing.
  ['HTML 400 page', { type: 'status', status: 400 }, 502],
  ['HTML 401 page', { type: 'status', status: 401 }, 502],
  ['HTML 403 page', { type: 'status', status: 403 }, 502],
  ['HTML 404 page', { type: 'status', status: 404 }, 502],
  ['HTML 405 page', { type: 'status', status: 405 }, 502],
  ['HTTP 408', { type: 'status', status: 408 }, 504],
  ['HTTP 429', { type: 'status', status: 429 }, 503],
  ['JSON 403 access denied', { type: 'custom', status: 403, body: '{"error":"access_denied"}' }, 502],
  [
    'JSON 400 invalid_request (e.g. a proxy dropped the Authorization header)',
    { type: 'custom', status: 400, body: '{"error":"invalid_request"}' },
    502,
  ],
  ['ret_code 1100 (format error)', { type: 'retCode', retCode: 1100 }, 502],
  ['ret_code 5000 (internal error)', { type: 'retCode', retCode: 5000 }, 502],
  ['ret_code 5100 (busy)', { type: 'retCode', retCode: 5100 }, 503],
  ['ret_code 5300 (upgrading)', { type: 'retCode', retCode: 5300 }, 503],
  ['ret_code 5999 (another 5xxx)', { type: 'retCode', retCode: 5999 }, 502],
  ['ret_code "5100" (a string)', { type: 'retCode', retCode: '5100' }, 503],
  ['ret_code "5000" (a string)', { type: 'retCode', retCode: '5000' }, 502],
  ['JSON 400 unsupported_grant_type', { type: 'oauthError', error: 'unsupported_grant_type' }, 502],
  ['ret_code "busy" (not a code)', { type: 'custom', status: 200, body: '{"ret_code":"busy","message":"x"}' }, 502],
  [
    'HTTP 200 JSON invalid_grant (an error needs a 400/401 or a ret_code)',
    { type: 'custom', status: 200, body: '{"error":"invalid_grant"}' },
    502,
  ],
];

/** Definitive refusals: they end the session (check_token, refresh_token) or refuse the code (token). */
const REFUSALS: [string, Fault][] = [
  ['JSON 401 invalid_token', { type: 'oauthError', error: 'invalid_token' }],
  ['JSON 400 invalid_grant', { type: 'oauthError', error: 'invalid_grant' }],
  ['JSON 401 invalid_client', { type: 'oauthError', error: 'invalid_client' }],
  ['ret_code 1200 (authentication failed)', { type: 'retCode', retCode: 1200 }],
  ['ret_code 1400 (access denied)', { type: 'retCode', retCode: 1400 }],
  ['ret_code 2000 (session expired)', { type: 'retCode', retCode: 2000 }],
  ['ret_code 2100 (not found: invalid grant)', { type: 'retCode', retCode: 2100 }],
  ['ret_code "2200" (invalid token, as a string)', { type: 'retCode', retCode: '2200' }],
];
const REFUSAL_MATRIX = ENDPOINTS.flatMap((endpoint) =>
  (['page', 'API'] as const).flatMap((mode) =>
    REFUSALS.map(([label, fault]) => [endpoint, mode, label, fault] as const),
  ),
);
const MATRIX = ENDPOINTS.flatMap((endpoint) =>
  (['page', 'API'] as const).flatMap((mode) =>
    FAULTS.map(([label, fault, status]) => [endpoint, mode, label, status, fault] as const),
  ),
);

function isSessionCookie(line: string): boolean {
  return /^sso_session(\.\d+)?=/.test(line);
}

describe.each(EXPRESS_VERSIONS)('SSO faults (%s)', (_name, express) => {
  let sso: Emulator;
  let clock: FakeClock;
  let app: Express;
  let served: Served;

  beforeAll(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock, accessTokenTtl: TTL });
    app = createTestApp(express as ExpressFactory, sso, { clock, httpTimeout: HTTP_TIMEOUT });
    served = await serve(app);
  });
  afterAll(async () => {
    await served.close();
    await sso.close();
  });
  afterEach(async () => {
    sso.clearFaults();
    await sso.up();
  });

  async function inject(endpoint: (typeof ENDPOINTS)[number], fault: Fault | 'down'): Promise<void> {
    if (fault === 'down') await sso.down();
    else sso.setFault(endpoint, fault);
  }

  async function recover(): Promise<void> {
    sso.clearFaults();
    await sso.up();
  }

  /** The request, timed. */
  async function timed(path: string, headers: Record<string, string>): Promise<{ res: Answer; ms: number }> {
    const started = Date.now();
    const res = await served.get(path, headers);
    return { res, ms: Date.now() - started };
  }

  function expectUpstreamAnswer(res: Answer, mode: Mode, status: number): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(MODES[mode].contentType);
    if (mode === 'API') expect(JSON.parse(res.body).error).toMatch(/^upstream_(error|unavailable|timeout)$/);
    // Never the SSO's own page or body (the emulator's status pages, maintenance page, partial JSON, filler).
    expect(res.body).not.toMatch(/nginx|maintenance|right back|filler|TMP4Q7|q8Zb3k|Rr2pN8|xxxxxxxx/i);
    if (status === 503) expect(res.headers['retry-after']).toBeDefined();
  }

  it.each(MATRIX)(
    '%s %s, SSO %s -> %d within the timeout; the session survives; recovery works',
    async (endpoint, mode, _label, status, fault) => {
      const { path, accept } = MODES[mode];
      if (endpoint === 'token') {
        // /callback: page = a browser, API = a client asking for JSON.
        const login = await served.get('/login?returnTo=/dest');
        const state = new URL(login.headers.location!).searchParams.get('state')!;
        const code = sso.approve({ redirectUri: REDIRECT_URI });
        await inject(endpoint, fault);
        const { res, ms } = await timed(`/callback?code=${code}&state=${state}`, {
          cookie: cookiesFrom(login.setCookie),
          accept,
        });
        expect(ms).toBeLessThan(HTTP_TIMEOUT + MARGIN);
        expectUpstreamAnswer(res, mode, status);
        expect(res.setCookie.filter(isSessionCookie)).toEqual([]);
        await recover();
        // The state was used up; a new sign-in goes through.
        const { cookie, location } = await signIn(app, sso, '/again');
        expect(location).toBe('/again');
        expect((await served.get('/api/me', { cookie })).status).toBe(200);
        return;
      }
      const { cookie } = await signIn(app, sso);
      if (endpoint === 'refresh_token') clock.advance((TTL + 1) * 1000);
      sso.resetCounts();
      await inject(endpoint, fault);
      const { res, ms } = await timed(path, { cookie, accept });
      expect(ms).toBeLessThan(HTTP_TIMEOUT + MARGIN);
      expectUpstreamAnswer(res, mode, status);
      // Transient: the session is neither cleared nor rewritten.
      expect(res.setCookie).toEqual([]);
      if (fault !== 'down') expect(sso.counts[endpoint]).toBe(1);
      await recover();
      const next = await served.get(path, { cookie, accept });
      expect(next.status).toBe(200);
      if (endpoint === 'refresh_token')
        expect(openSession(cookiesFrom(next.setCookie)).accessToken).not.toBe(openSession(cookie).accessToken);
    },
  );

  it.each(REFUSAL_MATRIX)(
    '%s %s, SSO refuses with %s: the login is refused or the session ends',
    async (endpoint, mode, _label, fault) => {
      const { path, accept } = MODES[mode];
      if (endpoint === 'token') {
        const login = await served.get('/login?returnTo=/dest');
        const state = new URL(login.headers.location!).searchParams.get('state')!;
        const code = sso.approve({ redirectUri: REDIRECT_URI });
        sso.setFault(endpoint, fault);
        const res = await served.get(`/callback?code=${code}&state=${state}`, {
          cookie: cookiesFrom(login.setCookie),
          accept,
        });
        expect(res.status).toBe(400);
        if (mode === 'API') expect(JSON.parse(res.body).error).toBe('code_rejected');
        expect(res.setCookie.filter(isSessionCookie)).toEqual([]);
        return;
      }
      // check_token refusing a session without a refresh token ends it; with one it would refresh.
      if (endpoint === 'check_token') sso.setOptions({ refreshTokens: false });
      try {
        const { cookie } = await signIn(app, sso);
        if (endpoint === 'refresh_token') clock.advance((TTL + 1) * 1000);
        sso.setFault(endpoint, fault);
        const res = await served.get(path, { cookie, accept });
        if (mode === 'page') {
          expect(res.status).toBe(302);
          expect(res.headers.location).toBe(`/login?returnTo=${encodeURIComponent(path)}`);
        } else {
          expect(res.status).toBe(401);
        }
        const cleared = res.setCookie.filter(isSessionCookie);
        expect(cleared.length).toBeGreaterThan(0);
        expect(cleared.every((c) => /Max-Age=0/.test(c))).toBe(true);
      } finally {
        sso.setOptions({ refreshTokens: true });
      }
    },
  );

  it.each(ENDPOINTS)('%s slow but within the timeout is just slow', async (endpoint) => {
    sso.setFault(endpoint, { type: 'slow', delayMs: HTTP_TIMEOUT / 4 });
    const { cookie } = await signIn(app, sso, '/x');
    if (endpoint === 'refresh_token') clock.advance((TTL + 1) * 1000);
    expect((await served.get('/api/me', { cookie })).status).toBe(200);
  });

  it('refreshes at most once per request: an early refresh that fails upstream is not retried when check_token then refuses', async () => {
    const a = createTestApp(express as ExpressFactory, sso, { clock, httpTimeout: HTTP_TIMEOUT, cache: { ttl: 1 } });
    const { cookie } = await signIn(a, sso);
    const one = await serve(a);
    try {
      expect((await one.get('/api/me', { cookie })).status).toBe(200);
      clock.advance((TTL - 20) * 1000); // refresh due (a tenth early), token still valid
      sso.revokeToken(openSession(cookie).accessToken);
      sso.setFault('refresh_token', { type: 'slow', delayMs: HTTP_TIMEOUT * 4 });
      sso.resetCounts();
      const started = Date.now();
      const res = await one.get('/api/me', { cookie });
      expect(res.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(HTTP_TIMEOUT + MARGIN);
      expect(sso.counts.refresh_token).toBe(1);
      expect(res.setCookie.filter(isSessionCookie)).toEqual([]);
    } finally {
      await one.close();
    }
  });

  it('refresh storm: 200 concurrent requests across 20 sessions expiring at once -> exactly 20 refresh calls, all 200', async () => {
    // Counts, not deadlines: an SSO timeout of its own, so a loaded machine cannot turn a slow
    // answer into a 504 (the suite's 300 ms is for the fault tests).
    const a = createTestApp(express as ExpressFactory, sso, { clock, httpTimeout: 10_000 });
    const own = await serve(a);
    const sessions = await Promise.all(Array.from({ length: 20 }, () => signIn(a, sso)));
    clock.advance((TTL + 1) * 1000);
    sso.resetCounts();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        own.get('/api/me', { cookie: sessions[i % 20]!.cookie }).then((res) => ({ i: i % 20, res })),
      ),
    ).finally(() => own.close());
    expect(results.map(({ res }) => res.status).filter((s) => s !== 200)).toEqual([]);
    expect(sso.counts.refresh_token).toBe(20);
    expect(sso.counts.check_token).toBe(20);
    // Every request of one session adopted the same new tokens.
    for (let s = 0; s < 20; s++) {
      const tokens = new Set(
        results.filter(({ i }) => i === s).map(({ res }) => openSession(cookiesFrom(res.setCookie)).accessToken),
      );
      expect(tokens.size).toBe(1);
    }
  });

  it('refresh storm while the SSO times out: 20 calls, all 504 in time, sessions kept; after recovery 20 calls, all 200', async () => {
    // A timeout of its own, long enough that a loaded machine's slowness is not a timeout; the
    // sessions are signed in through an app with a longer one (same secret: same cookies).
    const timeout = 1_000;
    const a = createTestApp(express as ExpressFactory, sso, { clock, httpTimeout: timeout });
    const signer = createTestApp(express as ExpressFactory, sso, { clock, httpTimeout: 10_000 });
    const own = await serve(a);
    try {
      const sessions = await Promise.all(Array.from({ length: 20 }, () => signIn(signer, sso)));
      clock.advance((TTL + 1) * 1000);
      sso.resetCounts();
      sso.setFault('refresh_token', { type: 'slow', delayMs: timeout * 4 });
      const started = Date.now();
      const failed = await Promise.all(
        Array.from({ length: 200 }, (_, i) => own.get('/api/me', { cookie: sessions[i % 20]!.cookie })),
      );
      expect(Date.now() - started).toBeLessThan(timeout + MARGIN * 2);
      expect(failed.map((r) => r.status).filter((s) => s !== 504)).toEqual([]);
      expect(failed.flatMap((r) => r.setCookie)).toEqual([]);
      expect(sso.counts.refresh_token).toBe(20);
      sso.clearFaults();
      sso.resetCounts();
      const ok = await Promise.all(
        Array.from({ length: 200 }, (_, i) => own.get('/api/me', { cookie: sessions[i % 20]!.cookie })),
      );
      expect(ok.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      expect(sso.counts.refresh_token).toBe(20);
    } finally {
      await own.close();
    }
  });
});

describe.each(EXPRESS_VERSIONS)('any SSO answer through the middleware (%s)', (_name, express) => {
  let raw: RawSso;
  let served: Served;
  let sessions: SessionCookie;
  let n = 0;
  const clock = fakeClock(Date.UTC(2026, 0, 1));
  const nowSec = () => Math.floor(clock() / 1000);
  const VALID_CHECK = JSON.stringify({
    access_key: 'TMPAK',
    secret_key: 'sk',
    token: 'e30.e30.sig',
    user: { user_id: 'usr-x' },
  });

  beforeAll(async () => {
    raw = await startRawSso();
    const app = (express as ExpressFactory)();
    app.use(
      auth({
        ssoBaseUrl: raw.url,
        appBaseUrl: APP_BASE_URL,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        secret: SECRET,
        httpTimeout: HTTP_TIMEOUT,
        clock,
      }),
    );
    app.get('/api/me', (req, res) => res.json({ user: req.sso.user }));
    app.get('/page', (req, res) => res.type('html').send(`<p>${req.sso.user?.user_id}</p>`));
    served = await serve(app);
    sessions = sessionCookieFor();
  });
  afterAll(async () => {
    await served.close();
    await raw.close();
  });

  /** A session this app sealed, with fresh tokens (never cached), expired or not. */
  function session(expired: boolean, withRefresh: boolean): { cookie: string; data: SessionData } {
    n++;
    const t = nowSec();
    const data: SessionData = {
      id: `sid-${n}`,
      accessToken: `at-${n}`,
      ...(withRefresh ? { refreshToken: `rt-${n}` } : {}),
      tokenType: 'Bearer',
      expiresAt: expired ? t - 10 : t + 3600,
      lifetime: 3600,
      createdAt: t - 100,
      touchedAt: t - 100,
    };
    return { cookie: cookiesFrom(sessions.serialize(data, t, [])), data };
  }

  function expectEnded(res: Answer, mode: Mode, path: string): void {
    if (mode === 'page') {
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`/login?returnTo=${encodeURIComponent(path)}`);
    } else {
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual({ error: 'unauthenticated', message: 'Session expired; sign in again' });
    }
    expect(res.setCookie.filter(isSessionCookie).every((c) => /Max-Age=0/.test(c))).toBe(true);
  }

  function expectFailure(res: Answer, mode: Mode, want: string): void {
    expect(res.status).toBe({ upstream_error: 502, upstream_unavailable: 503, upstream_timeout: 504 }[want]);
    expect(res.headers['content-type']).toMatch(MODES[mode].contentType);
    expect(res.setCookie).toEqual([]);
  }

  const modeArb = fc.constantFrom<Mode>('page', 'API');

  it.each(['check_token', 'refresh_token'] as const)(
    '%s: signed in, ended (401 / login redirect) or 502-504, never 500, never the SSO body (300 runs)',
    async (endpoint) => {
      await fc.assert(
        fc.asyncProperty(answerArb(endpoint), modeArb, async (a, mode) => {
          const want = expectedOutcome(endpoint, a);
          raw.respond((req) => {
            if (req.path === `/sso/${endpoint}/`)
              return { kind: 'http', status: a.status, body: a.body, contentType: a.contentType };
            return { kind: 'http', status: 200, body: VALID_CHECK };
          });
          // check_token: a live session without a refresh token (a refusal ends it);
          // refresh_token: an expired one with a refresh token.
          const { cookie } = endpoint === 'check_token' ? session(false, false) : session(true, true);
          const { path, accept } = MODES[mode];
          const res = await served.get(path, { cookie, accept });
          expect(res.status).not.toBe(500);
          expect(res.body).not.toContain(REFLECTION_MARK);
          if (want === 'success') {
            expect(res.status).toBe(200);
            if (endpoint === 'check_token' && mode === 'API')
              expect(JSON.parse(res.body).user).toEqual(parsedBody(a).user);
            if (endpoint === 'refresh_token')
              expect(openSession(cookiesFrom(res.setCookie)).accessToken).toBe(parsedBody(a).access_token);
          } else if (want === 'refusal') {
            expectEnded(res, mode, path);
          } else {
            expectFailure(res, mode, want);
          }
        }),
        { numRuns: 300, seed: endpoint.length * 104729 },
      );
    },
    60_000,
  );

  it('token (/callback): signed in, 400 code_rejected, or 502-504, never 500, never the SSO body (300 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(answerArb('token' satisfies JsonEndpoint), modeArb, async (a, mode) => {
        const want = expectedOutcome('token', a);
        raw.respond(() => ({ kind: 'http', status: a.status, body: a.body, contentType: a.contentType }));
        const login = await served.get('/login?returnTo=/dest');
        const state = new URL(login.headers.location!).searchParams.get('state')!;
        const res = await served.get(`/callback?code=c-${++n}&state=${state}`, {
          cookie: cookiesFrom(login.setCookie),
          accept: MODES[mode].accept,
        });
        expect(res.status).not.toBe(500);
        expect(res.body).not.toContain(REFLECTION_MARK);
        if (want === 'success') {
          expect(res.status).toBe(302);
          expect(res.headers.location).toBe('/dest');
          expect(openSession(cookiesFrom(res.setCookie)).accessToken).toBe(parsedBody(a).access_token);
        } else {
          expect(res.setCookie.filter(isSessionCookie)).toEqual([]);
          if (want === 'refusal') {
            expect(res.status).toBe(400);
            if (mode === 'API') expect(JSON.parse(res.body).error).toBe('code_rejected');
          } else {
            expectFailure({ ...res, setCookie: [] }, mode, want);
          }
        }
      }),
      { numRuns: 300, seed: 31337 },
    );
  }, 60_000);
});
