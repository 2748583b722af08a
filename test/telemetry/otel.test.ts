import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Express } from 'express';
import request from 'supertest';
import { auth, requiresAuth } from '../../lib/express/middleware';
import type { SsoGuardOptions } from '../../lib/options';
import { memoryStore } from '../../lib/store/memory';
import type { SsoStore } from '../../lib/store/types';
import type { Emulator } from '../../lib/testing';
import {
  APP_BASE_URL,
  EXPRESS_VERSIONS,
  cookiesFrom,
  setCookieOf,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { fakeClock, type FakeClock } from '../helpers/clock';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';
import { openSession } from '../helpers/session';
import { installSdk, type TestSdk } from './sdk';

const SSO_DURATION = 'sso_guard.sso.duration';
const CACHE = 'sso_guard.check_token.cache';
const REFRESH = 'sso_guard.refresh';
const STARTED = 'sso_guard.session.started';
const ENDED = 'sso_guard.session.ended';
const FALLBACK = 'sso_guard.store.fallback';
const CLOUD_DURATION = 'sso_guard.cloud.duration';

describe.each(EXPRESS_VERSIONS)('OpenTelemetry metrics and spans, through HTTP (%s)', (_name, express) => {
  let sso: Emulator;
  let clock: FakeClock;
  let sdk: TestSdk;
  let lines: Array<[string, string]>;
  let events: Array<[string, unknown]>;
  /** Every secret seen during a test: none may appear in a span, metric, event or log line. */
  let secrets: Set<string>;

  const logger = {
    debug: (m: string) => lines.push(['debug', m]),
    info: (m: string) => lines.push(['info', m]),
    warn: (m: string) => lines.push(['warn', m]),
    error: (m: string) => lines.push(['error', m]),
  };
  const listen = (name: string) => (e: unknown) => void events.push([name, e]);
  const listeners = {
    login: listen('login'),
    logout: listen('logout'),
    refresh: listen('refresh'),
    sessionEnd: listen('sessionEnd'),
    ssoError: listen('ssoError'),
  };

  beforeEach(async () => {
    clock = fakeClock(Date.now());
    sso = await startTestEmulator({ clock });
    sdk = installSdk();
    lines = [];
    events = [];
    secrets = new Set([CLIENT_SECRET, SECRET]);
  });

  afterEach(async () => {
    try {
      const spans = sdk
        .spans()
        .map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links }));
      const seen = JSON.stringify({ spans, metrics: await sdk.metrics(), events, lines });
      for (const secret of secrets)
        expect({ secret: secret.slice(0, 6), found: seen.includes(secret) }).toEqual({
          secret: secret.slice(0, 6),
          found: false,
        });
      expect(secrets.size).toBeGreaterThan(2);
    } finally {
      await sso.close();
      await sdk.shutdown();
    }
  });

  /** The app under test: its own SERVER span active around each request (what HTTP instrumentation does), then auth(). */
  function make(options: SsoGuardOptions = {}): Express {
    const app = (express as ExpressFactory)();
    app.use((req, res, next) => {
      const span = trace.getTracer('test-app').startSpan(`GET ${req.path}`, { kind: SpanKind.SERVER });
      res.on('finish', () => span.end());
      context.with(trace.setSpan(context.active(), span), next);
    });
    app.use(
      auth({
        ssoBaseUrl: sso.url,
        appBaseUrl: APP_BASE_URL,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        secret: SECRET,
        clock,
        httpTimeout: 400,
        bearer: true,
        authRequired: false,
        cloud: { apiBaseUrl: sso.url },
        logger,
        events: listeners,
        ...options,
      }),
    );
    app.get('/api/me', requiresAuth({ mode: '401' }), (req, res) => {
      secrets.add(req.sso.credentials!.secretKey).add(req.sso.credentials!.token).add(req.sso.credentials!.accessKey);
      res.json({ user: req.sso.user });
    });
    app.get('/api/instances', requiresAuth({ mode: '401' }), async (req, res, next) => {
      try {
        res.json(await req.sso.cloud.call('DescribeInstances', { limit: 5 }));
      } catch (err) {
        next(err);
      }
    });
    return app;
  }

  /** Signs in through the real routes, remembering state, code, cookie and the tokens inside it as secrets. */
  async function signIn(app: Express, tokensInCookie = true): Promise<string> {
    const login = await request(app).get('/login?returnTo=/api/me').expect(302);
    const authorize = new URL(String(login.headers.location));
    secrets.add(authorize.searchParams.get('state')!);
    const approved = await fetch(authorize, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    secrets.add(back.searchParams.get('code')!);
    const cb = await request(app)
      .get(`${back.pathname}${back.search}`)
      .set('Cookie', cookiesFrom(setCookieOf(login)));
    expect(cb.status).toBe(302);
    const cookie = cookiesFrom(setCookieOf(cb));
    if (tokensInCookie) remember(cookie);
    else for (const pair of cookie.split('; ')) secrets.add(pair.slice(pair.indexOf('=') + 1));
    return cookie;
  }

  function remember(cookie: string): void {
    for (const pair of cookie.split('; ')) secrets.add(pair.slice(pair.indexOf('=') + 1));
    const s = openSession(cookie);
    secrets.add(s.accessToken).add(s.id);
    if (s.refreshToken !== undefined) secrets.add(s.refreshToken);
  }

  const ssoSpans = (endpoint?: string): ReadableSpan[] =>
    sdk.spans().filter((s) => (endpoint === undefined ? s.name.startsWith('sso ') : s.name === `sso ${endpoint}`));
  const serverSpanOf = (span: ReadableSpan): ReadableSpan | undefined =>
    sdk.spans().find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);

  it('sign-in, cached requests and logout: token and check_token spans under the app span, miss then hits, started and ended', async () => {
    const app = make();
    const cookie = await signIn(app);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);

    const [token] = ssoSpans('token');
    expect(ssoSpans('token')).toHaveLength(1);
    expect(token!.kind).toBe(SpanKind.CLIENT);
    expect(token!.attributes).toEqual({
      'sso.endpoint': 'token',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
      'sso.outcome': 'ok',
    });
    expect(token!.status.code).toBe(SpanStatusCode.UNSET);
    expect(serverSpanOf(token!)?.name).toBe('GET /callback');
    // A login listener is set: the callback checks the new token once, and later requests hit the cache.
    const checks = ssoSpans('check_token');
    expect(checks).toHaveLength(1);
    expect(checks[0]!.attributes).toMatchObject({
      'sso.endpoint': 'check_token',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
    });
    expect(serverSpanOf(checks[0]!)?.name).toBe('GET /callback');
    expect(checks[0]!.spanContext().traceId).toBe(serverSpanOf(checks[0]!)!.spanContext().traceId);

    expect(await sdk.total(CACHE, { result: 'miss' })).toBe(1);
    expect(await sdk.total(CACHE, { result: 'hit' })).toBe(3);
    expect(await sdk.total(STARTED)).toBe(1);
    expect(await sdk.total(STARTED, { entry: 'callback' })).toBe(1);
    const durations = await sdk.points(SSO_DURATION);
    expect(
      durations
        .map((p) => p.attributes)
        .sort((a, b) => String(a['sso.endpoint']).localeCompare(String(b['sso.endpoint']))),
    ).toEqual([
      { 'sso.endpoint': 'check_token', 'sso.outcome': 'ok' },
      { 'sso.endpoint': 'token', 'sso.outcome': 'ok' },
    ]);
    expect(durations.every((p) => p.value === 1 && p.sum! > 0 && p.sum! < 5)).toBe(true);
    const histogram = (await sdk.metrics()).find((m) => m.descriptor.name === SSO_DURATION)!;
    expect(histogram.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(histogram.descriptor.unit).toBe('s');

    await request(app).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', cookie).expect(302);
    expect(await sdk.total(ENDED, { reason: 'logout' })).toBe(1);
    // The old cookie again: refused as revoked.
    await request(app).get('/api/me').set('Cookie', cookie).expect(401);
    expect(await sdk.total(ENDED, { reason: 'revoked' })).toBe(1);
    const user = { userId: 'usr-alice' };
    expect(events.filter(([n]) => n !== 'sessionEnd')).toEqual([
      ['login', { ...user, entry: 'callback' }],
      ['logout', user],
    ]);
    expect(events.filter(([n]) => n === 'sessionEnd')).toEqual([
      ['sessionEnd', { reason: 'logout', userId: 'usr-alice' }],
      ['sessionEnd', { reason: 'revoked', userId: undefined }],
    ]);
    expect(lines).toContainEqual(['info', 'express-sso-guard: sign-in: user usr-alice']);
    expect(lines).toContainEqual(['info', 'express-sso-guard: sign-out: user usr-alice']);
  });

  it('counts requests that joined an in-flight check_token lookup as coalesced', async () => {
    const app = make();
    const tokens = sso.issueTokens();
    secrets.add(tokens.access_token).add(tokens.refresh_token!);
    sso.setFault('check_token', { type: 'slow', delayMs: 300 }, { times: 1 });
    const bearer = `Bearer ${tokens.access_token}`;
    await Promise.all(
      Array.from({ length: 5 }, () => request(app).get('/api/me').set('Authorization', bearer).expect(200)),
    );
    expect(sso.counts.check_token).toBe(1);
    expect(await sdk.total(CACHE, { result: 'miss' })).toBe(1);
    expect(await sdk.total(CACHE, { result: 'coalesced' })).toBe(4);
    expect(ssoSpans('check_token')).toHaveLength(1);
  });

  it('refresh: refreshed, then adopted by a request with the old cookie; a refused refresh ends the session', async () => {
    const app = make();
    const cookie = await signIn(app);
    clock.advance(3590 * 1000); // within the last minute of the hour-long access token: refresh due
    const refreshed = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    const next = cookiesFrom(setCookieOf(refreshed), cookie);
    remember(next);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200); // the pre-refresh cookie
    expect(await sdk.total(REFRESH, { outcome: 'refreshed' })).toBe(1);
    expect(await sdk.total(REFRESH, { outcome: 'adopted' })).toBe(1);
    const [span] = ssoSpans('refresh_token');
    expect(span!.attributes).toEqual({
      'sso.endpoint': 'refresh_token',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
      'sso.outcome': 'ok',
    });
    expect(serverSpanOf(span!)?.name).toBe('GET /api/me');

    // The user is revoked at the SSO: check_token and the refresh are refused, the session ends.
    sso.revokeUser('usr-alice');
    clock.advance(301 * 1000); // past the cache TTL
    await request(app).get('/api/me').set('Cookie', next).expect(401);
    expect(await sdk.total(SSO_DURATION, { 'sso.endpoint': 'check_token', 'sso.outcome': 'refused' })).toBe(1);
    expect(await sdk.total(SSO_DURATION, { 'sso.endpoint': 'refresh_token', 'sso.outcome': 'refused' })).toBe(1);
    expect(await sdk.total(REFRESH, { outcome: 'refused' })).toBe(1);
    expect(await sdk.total(ENDED, { reason: 'refused' })).toBe(1);
    // A refusal is an answer, not a failed call: status unset, no ssoError.
    expect(
      ssoSpans()
        .filter((s) => s.attributes['sso.outcome'] === 'refused')
        .map((s) => s.status.code),
    ).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET]);
    expect(events.filter(([n]) => n === 'refresh').map(([, e]) => (e as { outcome: string }).outcome)).toEqual([
      'refreshed',
      'adopted',
      'refused',
    ]);
    expect(events.some(([n]) => n === 'ssoError')).toBe(false);
  });

  it('sessions end by reason: lifetime, expired and not_found', async () => {
    const app = make({ session: { rollingDuration: 600 } });
    const cookie = await signIn(app);
    clock.advance(601 * 1000);
    await request(app).get('/api/me').set('Cookie', cookie).expect(401);
    expect(await sdk.total(ENDED, { reason: 'lifetime' })).toBe(1);

    sso.setOptions({ refreshTokens: false });
    const app2 = make(); // a day of idle lifetime: the hour-long token expires first
    const noRefresh = await signIn(app2);
    clock.advance(3601 * 1000);
    await request(app2).get('/api/me').set('Cookie', noRefresh).expect(401);
    expect(await sdk.total(ENDED, { reason: 'expired' })).toBe(1);
    expect(await sdk.total(ENDED)).toBe(2);

    // Server-side sessions: logged out on one instance, the tokens are gone from the store for the other.
    const store = memoryStore();
    const [a, b] = [make({ store, session: { serverSide: true } }), make({ store, session: { serverSide: true } })];
    const pointer = await signIn(a, false);
    await request(a).get('/logout').set('Sec-Fetch-Site', 'same-origin').set('Cookie', pointer).expect(302);
    await request(b).get('/api/me').set('Cookie', pointer).expect(401);
    expect(await sdk.total(ENDED, { reason: 'not_found' })).toBe(1);
    expect(await sdk.total(STARTED)).toBe(3);
  });

  it('an SSO outage: unavailable, timeout and error outcomes, spans with status ERROR, ssoError events and warn lines', async () => {
    const app = make();
    const bearerOf = (): string => {
      const t = sso.issueTokens();
      secrets.add(t.access_token).add(t.refresh_token!);
      return `Bearer ${t.access_token}`;
    };
    sso.setFault('check_token', { type: 'status', status: 503 });
    await request(app).get('/api/me').set('Authorization', bearerOf()).expect(503);
    sso.setFault('check_token', { type: 'reset' });
    await request(app).get('/api/me').set('Authorization', bearerOf()).expect(503);
    sso.setFault('check_token', { type: 'hang' });
    await request(app).get('/api/me').set('Authorization', bearerOf()).expect(504);
    sso.setFault('check_token', { type: 'garbage' });
    await request(app).get('/api/me').set('Authorization', bearerOf()).expect(502);
    sso.clearFaults();

    expect(await sdk.total(SSO_DURATION, { 'sso.endpoint': 'check_token', 'sso.outcome': 'unavailable' })).toBe(2);
    expect(await sdk.total(SSO_DURATION, { 'sso.endpoint': 'check_token', 'sso.outcome': 'timeout' })).toBe(1);
    expect(await sdk.total(SSO_DURATION, { 'sso.endpoint': 'check_token', 'sso.outcome': 'error' })).toBe(1);
    const failed = ssoSpans('check_token');
    expect(
      failed.map((s) => [
        s.attributes['sso.outcome'],
        s.attributes['error.type'],
        s.attributes['http.response.status_code'],
        s.status.code,
      ]),
    ).toEqual([
      ['unavailable', 'upstream_unavailable', 503, SpanStatusCode.ERROR],
      ['unavailable', 'upstream_unavailable', undefined, SpanStatusCode.ERROR],
      ['timeout', 'upstream_timeout', undefined, SpanStatusCode.ERROR],
      ['error', 'upstream_error', 200, SpanStatusCode.ERROR],
    ]);
    for (const span of failed) expect(serverSpanOf(span)?.name).toBe('GET /api/me');
    const ssoErrors = events.filter(([n]) => n === 'ssoError').map(([, e]) => e as Record<string, unknown>);
    expect(ssoErrors.map((e) => [e.endpoint, e.outcome, e.code])).toEqual([
      ['check_token', 'unavailable', 'upstream_unavailable'],
      ['check_token', 'unavailable', 'upstream_unavailable'],
      ['check_token', 'timeout', 'upstream_timeout'],
      ['check_token', 'error', 'upstream_error'],
    ]);
    expect(ssoErrors.every((e) => typeof e.durationMs === 'number' && typeof e.message === 'string')).toBe(true);
    expect(lines.filter(([level, m]) => level === 'warn' && m.includes('SSO check_token failed'))).toHaveLength(4);

    // The token endpoint failing during sign-in, and an early refresh failing upstream.
    sso.setFault('token', { type: 'status', status: 502 }, { times: 1 });
    const login = await request(app).get('/login').expect(302);
    secrets.add(new URL(String(login.headers.location)).searchParams.get('state')!);
    const approved = await fetch(String(login.headers.location), { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    secrets.add(back.searchParams.get('code')!);
    await request(app)
      .get(`${back.pathname}${back.search}`)
      .set('Cookie', cookiesFrom(setCookieOf(login)))
      .expect(502);
    expect(await sdk.total(SSO_DURATION, { 'sso.endpoint': 'token', 'sso.outcome': 'error' })).toBe(1);
    expect(ssoSpans('token')[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(await sdk.total(STARTED)).toBe(0);

    const cookie = await signIn(app);
    sso.setFault('refresh_token', { type: 'status', status: 503 });
    clock.advance(3590 * 1000);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200); // the token is still valid: used meanwhile
    expect(await sdk.total(REFRESH, { outcome: 'failed' })).toBe(1);
    expect(await sdk.total(SSO_DURATION, { 'sso.endpoint': 'refresh_token', 'sso.outcome': 'unavailable' })).toBe(1);
    expect(lines.some(([level, m]) => level === 'warn' && m.includes('refresh failed'))).toBe(true);
  });

  it('counts store fallbacks by operation and warns once', async () => {
    const down = (): Promise<never> => Promise.reject(new Error('connection refused'));
    const store: SsoStore = {
      get: down,
      set: down,
      delete: down,
      deleteIfEquals: down,
      publish: down,
      subscribe: async () => {},
    };
    const app = make({ store });
    const cookie = await signIn(app);
    await request(app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(await sdk.total(FALLBACK, { operation: 'get' })).toBe(1);
    expect((await sdk.points(FALLBACK)).every((p) => typeof p.attributes.operation === 'string')).toBe(true);
    expect(lines.filter(([level, m]) => level === 'warn' && m.includes('shared store unavailable'))).toHaveLength(1);
  });

  it('cloud API calls: a CLIENT span "cloud <Action>" under the app span and a duration histogram by action and outcome', async () => {
    const app = make();
    const cookie = await signIn(app);
    await request(app).get('/api/instances').set('Cookie', cookie).expect(200);
    sso.setFault('iam', { type: 'retCode', retCode: 1400, message: 'permission denied' }, { times: 1 });
    await request(app).get('/api/instances').set('Cookie', cookie).expect(502);
    const spans = sdk.spans().filter((s) => s.name === 'cloud DescribeInstances');
    expect(
      spans.map((s) => [
        s.kind,
        s.attributes['cloud.action'],
        s.attributes['cloud.outcome'],
        s.attributes['server.address'],
        s.status.code,
      ]),
    ).toEqual([
      [SpanKind.CLIENT, 'DescribeInstances', 'ok', '127.0.0.1', SpanStatusCode.UNSET],
      [SpanKind.CLIENT, 'DescribeInstances', 'api_error', '127.0.0.1', SpanStatusCode.ERROR],
    ]);
    expect(serverSpanOf(spans[0]!)?.name).toBe('GET /api/instances');
    expect(spans[0]!.attributes['http.response.status_code']).toBe(200);
    expect(await sdk.total(CLOUD_DURATION, { 'cloud.action': 'DescribeInstances', 'cloud.outcome': 'ok' })).toBe(1);
    expect(await sdk.total(CLOUD_DURATION, { 'cloud.action': 'DescribeInstances', 'cloud.outcome': 'api_error' })).toBe(
      1,
    );
    expect((await sdk.metrics()).find((m) => m.descriptor.name === CLOUD_DURATION)!.descriptor.unit).toBe('s');
  });
});
