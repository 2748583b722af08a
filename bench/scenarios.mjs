import { startIssuer } from './procs.mjs';

/**
 * The benchmark scenarios. Each one is a server that answers `GET <path>` with the same small JSON
 * body, `{"user":"<id>"}`, after whatever authentication it stands for. `setup()` runs inside the
 * scenario server process (bench/server.mjs): it builds the app, signs in once through the real
 * flow and warms what has to be warm, then hands back the request to load. Identity providers
 * (the SSO emulator, the OIDC mock issuer) run in a process of their own, as they would in
 * production, so the measured process holds the app alone.
 *
 * Only metadata lives at the top level; the packages of a scenario are imported inside its setup,
 * so the orchestrator can read this file without loading Express, passport or the OIDC client.
 */

/** Cookie pairs (`a=1; b=2`) from Set-Cookie lines, dropping deleted cookies. */
export function cookiePairs(setCookies, previous = '') {
  const jar = new Map();
  for (const pair of previous.split('; ').filter(Boolean)) jar.set(pair.split('=')[0], pair);
  for (const line of setCookies) {
    const pair = line.split(';')[0];
    const name = pair.slice(0, pair.indexOf('='));
    if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, pair);
  }
  return [...jar.values()].join('; ');
}

async function get(url, cookie) {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  await res.arrayBuffer();
  return res;
}

function expectStatus(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}`);
}

/** Loads a module from a package name that may be CommonJS. */
async function load(name) {
  const mod = await import(name);
  return mod.default ?? mod;
}

const SECRET = 'bench-session-secret-at-least-32-characters';
/**
 * Deadline of the guard's SSO calls: long, so the sign-in of a scenario run under valgrind
 * (bench/inprocess.mjs --instructions, ~50x slower) does not time out. Loaded requests are cache
 * hits and make no SSO call.
 */
const SIGN_IN_TIMEOUT = 120_000;

/**
 * The package under test: the build in dist/ (through the package's self-reference), or another
 * build of it when SSO_GUARD_DIST names its directory (bench/ab.mjs compares builds that way).
 */
export function importGuard(sub = '') {
  const dist = process.env.SSO_GUARD_DIST;
  if (dist) return import(`${dist}/${sub ? `${sub}/` : ''}index.mjs`);
  return import(`express-sso-guard${sub ? `/${sub}` : ''}`);
}

/**
 * Signs in to an express-sso-guard app at `base` through the real routes: /login -> the
 * emulator's authorize (autoApprove) -> /callback. Returns the session cookie pairs.
 */
export async function signInSsoGuard(base) {
  const login = await get(`${base}/login?returnTo=/api/me`);
  expectStatus(login, 302, 'GET /login');
  const txn = cookiePairs(login.headers.getSetCookie());
  const authorize = await get(login.headers.get('location'));
  expectStatus(authorize, 302, 'emulator authorize');
  const back = new URL(authorize.headers.get('location'));
  const cb = await get(`${base}${back.pathname}${back.search}`, txn);
  expectStatus(cb, 302, 'GET /callback');
  const cookie = cookiePairs(cb.headers.getSetCookie());
  if (!cookie.startsWith('sso_session=')) throw new Error(`no session cookie after /callback: ${cookie}`);
  return cookie;
}

/** express-sso-guard signed in through /login -> emulator authorize (autoApprove) -> /callback. */
async function ssoGuardSetup(expressName, { base, guardMode }) {
  const express = await load(expressName);
  // The OpenTelemetry SDK registered before auth(), as an app does (in-memory: no export cost).
  if (guardMode === 'otel') await registerOtelSdk();
  const { auth, requiresAuth, redisStore } = await importGuard();
  const sso = await startIssuer('emulator');
  const app = express();
  const redis = guardMode === 'redis' || guardMode === 'server' ? await countingRedisStore(redisStore) : undefined;
  const send = (req, res) => res.json({ user: req.sso.user.user_id });
  if (guardMode === 'requiresAuth') {
    app.use(
      auth({
        ssoBaseUrl: sso.url,
        appBaseUrl: base,
        clientId: 'bench-client',
        clientSecret: 'bench-client-secret',
        secret: SECRET,
        httpTimeout: SIGN_IN_TIMEOUT,
        authRequired: false,
      }),
    );
    app.get('/public', (req, res) => res.json({ user: req.sso.isAuthenticated() ? req.sso.user.user_id : null }));
    app.get('/api/me', requiresAuth(), send);
  } else {
    app.use(
      auth({
        ssoBaseUrl: sso.url,
        appBaseUrl: base,
        clientId: 'bench-client',
        clientSecret: 'bench-client-secret',
        secret: SECRET,
        httpTimeout: SIGN_IN_TIMEOUT,
        store: redis?.store,
        ...(guardMode === 'server' ? { session: { serverSide: true } } : {}),
      }),
    );
    app.get('/api/me', send);
  }
  return {
    handler: app,
    async signIn() {
      const cookie = await signInSsoGuard(base);
      // Warm the check_token cache: the loaded requests are all cache hits. Under valgrind
      // (bench/inprocess.mjs) the app is so slow that the emulator may close an idle keep-alive
      // socket the app then reuses (503): such a warm-up is tried again, up to 3 times.
      let warm = await get(`${base}/api/me`, cookie);
      for (let i = 0; i < 2 && warm.status >= 500; i++) warm = await get(`${base}/api/me`, cookie);
      expectStatus(warm, 200, 'warm-up request');
      redis?.mark();
      return { cookie };
    },
    async close() {
      // First-level hits must make no Redis call: the count covers warm-up and measured load.
      if (redis) console.error(`redis store: ${redis.commandsSinceMark()} commands after warm-up`);
      await redis?.close();
      await sso.close();
    },
  };
}

/** Global OpenTelemetry SDK: a MeterProvider with an in-memory reader and a tracer with an in-memory exporter. */
async function registerOtelSdk() {
  const { metrics, trace } = await load('@opentelemetry/api');
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } =
    await load('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await load(
    '@opentelemetry/sdk-trace-base',
  );
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] }),
  );
}

/** A redisStore on REDIS_URL (default the local Redis) that counts the commands it sends. */
async function countingRedisStore(redisStore) {
  const { createClient } = await load('redis');
  const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', disableOfflineQueue: true });
  client.on('error', () => undefined);
  await client.connect();
  const inner = redisStore({ client, prefix: `sso-guard-bench:${process.pid}:` });
  let commands = 0;
  let marked = 0;
  const counted =
    (name) =>
    (...args) => {
      commands++;
      return inner[name](...args);
    };
  const store = {
    ...inner,
    get: counted('get'),
    set: counted('set'),
    delete: counted('delete'),
    deleteIfEquals: counted('deleteIfEquals'),
    publish: counted('publish'),
  };
  return {
    store,
    mark: () => (marked = commands),
    commandsSinceMark: () => commands - marked,
    async close() {
      await inner.close();
      await client.quit();
    },
  };
}

/** express-openid-connect against oauth2-mock-server, signed in through its own /login and /callback. */
async function oidcSetup(expressName, { base }) {
  const express = await load(expressName);
  const { auth } = await import('express-openid-connect');
  const issuer = await startIssuer('oidc');
  const app = express();
  app.use(
    auth({
      issuerBaseURL: issuer.url,
      baseURL: base,
      // No '-': openid-client form-encodes the Basic credentials (`bench%2Dclient`) and the mock
      // issuer puts that encoded id into `aud`, which then fails the audience check.
      clientID: 'benchclient',
      clientSecret: 'bench-client-secret',
      secret: SECRET,
      authRequired: true,
      idpLogout: false,
      // The mock issuer supports the code flow with response_mode=query only.
      authorizationParams: { response_type: 'code', scope: 'openid profile email' },
    }),
  );
  app.get('/api/me', (req, res) => res.json({ user: req.oidc.user.sub }));
  return {
    handler: app,
    async signIn() {
      const login = await get(`${base}/login?returnTo=/api/me`);
      expectStatus(login, 302, 'GET /login');
      const txn = cookiePairs(login.headers.getSetCookie());
      const authorize = await get(login.headers.get('location'));
      expectStatus(authorize, 302, 'issuer authorize');
      const back = new URL(authorize.headers.get('location'));
      const cb = await get(`${base}${back.pathname}${back.search}`, txn);
      expectStatus(cb, 302, 'GET /callback');
      const cookie = cookiePairs(cb.headers.getSetCookie(), txn)
        .split('; ')
        .filter((p) => p.startsWith('appSession'))
        .join('; ');
      if (!cookie.startsWith('appSession')) throw new Error('no appSession cookie after /callback');
      expectStatus(await get(`${base}/api/me`, cookie), 200, 'warm-up request');
      return { cookie };
    },
    close: () => issuer.close(),
  };
}

/** passport-local + express-session (MemoryStore), logged in once with a form POST. */
async function passportSetup(expressName, { base }) {
  const express = await load(expressName);
  const session = await load('express-session');
  const passport = await load('passport');
  const { Strategy } = await load('passport-local');
  const users = new Map([['bench-user', { id: 'bench-user', username: 'bench', password: 'bench-password' }]]);
  passport.use(
    new Strategy((username, password, done) => {
      const user = [...users.values()].find((u) => u.username === username && u.password === password);
      done(null, user ?? false);
    }),
  );
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id, done) => done(null, users.get(id) ?? false));
  const app = express();
  app.use(session({ secret: SECRET, resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.use(passport.session());
  app.post('/login', express.urlencoded({ extended: false }), passport.authenticate('local'), (req, res) =>
    res.json({ user: req.user.id }),
  );
  app.get('/api/me', (req, res) => {
    if (!req.isAuthenticated()) return res.status(401).json({ error: 'unauthenticated' });
    res.json({ user: req.user.id });
  });
  return {
    handler: app,
    async signIn() {
      const res = await fetch(`${base}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=bench&password=bench-password',
        redirect: 'manual',
      });
      await res.arrayBuffer();
      expectStatus(res, 200, 'POST /login');
      const cookie = cookiePairs(res.headers.getSetCookie());
      if (!cookie.startsWith('connect.sid=')) throw new Error('no connect.sid after login');
      expectStatus(await get(`${base}/api/me`, cookie), 200, 'warm-up request');
      return { cookie };
    },
    close: async () => {},
  };
}

/**
 * The Cookie header the bare and floor scenarios are sent: as long as express-sso-guard's session
 * cookie (319 bytes in the reference run), so every Express scenario parses the same request and
 * the ratios measure the middleware, not the header's bytes.
 */
export const SAME_SIZE_COOKIE = `sso_session=${'A'.repeat(307)}`;

async function bareExpressSetup(expressName) {
  const express = await load(expressName);
  const app = express();
  app.get('/api/me', (req, res) => res.json({ user: 'bench-user' }));
  return { handler: app, signIn: async () => ({ cookie: SAME_SIZE_COOKIE }), close: async () => {} };
}

/**
 * The floor: bare Express plus one middleware that only sets `req.sso` and `req.user` to constant
 * objects (the two properties express-sso-guard must add), answering the same JSON through them.
 * What no implementation of the guard's API can go below on Express.
 */
export async function floorSetup(expressName) {
  const express = await load(expressName);
  const app = express();
  const user = Object.freeze({ user_id: 'bench-user' });
  const sso = Object.freeze({ user, isAuthenticated: () => true });
  app.use((req, res, next) => {
    req.sso = sso;
    req.user = user;
    next();
  });
  app.get('/api/me', (req, res) => res.json({ user: req.sso.user.user_id }));
  return { handler: app, signIn: async () => ({ cookie: SAME_SIZE_COOKIE }), close: async () => {} };
}

/**
 * Request shape (a): `sso` and `user` as accessors on the app's request prototype (`app.request`),
 * backed by one slot per request kept outside the request (a WeakMap), so the middleware adds no
 * property to `req`. A write (`req.user = …`, passport's login) turns the name into an ordinary own
 * property from then on, so `delete req.user` (passport's logout) leaves it undefined.
 */
export function defineSlotAccessors(app, slots) {
  const define = (name, read) =>
    Object.defineProperty(app.request, name, {
      configurable: true,
      enumerable: false,
      get() {
        const slot = slots.get(this);
        return slot === undefined ? undefined : read(slot);
      },
      set(value) {
        slots.delete(this);
        Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  define('sso', (slot) => slot);
  define('user', (slot) => slot.user);
}

/** The floor with shape (a): the same answer, the constants reached through prototype accessors. */
async function floorAccessorSetup(expressName) {
  const express = await load(expressName);
  const app = express();
  const user = Object.freeze({ user_id: 'bench-user' });
  const sso = Object.freeze({ user, isAuthenticated: () => true });
  const slots = new WeakMap();
  defineSlotAccessors(app, slots);
  app.use((req, res, next) => {
    slots.set(req, sso);
    next();
  });
  app.get('/api/me', (req, res) => res.json({ user: req.sso.user.user_id }));
  return { handler: app, signIn: async () => ({ cookie: SAME_SIZE_COOKIE }), close: async () => {} };
}

/**
 * Request shape (b): the server builds its requests from an IncomingMessage subclass that declares
 * `sso` and `user` in its constructor, so every request is born with them (what Fastify's request
 * decorators do): `http.createServer({ IncomingMessage: DeclaredRequest }, app)`.
 */
async function declaredRequestServer() {
  const http = await import('node:http');
  class DeclaredRequest extends http.IncomingMessage {
    constructor(socket) {
      super(socket);
      this.sso = undefined;
      this.user = undefined;
    }
  }
  return { IncomingMessage: DeclaredRequest };
}

/** Shape (b) as the package ships it: `http.createServer({ IncomingMessage: SsoIncomingMessage }, app)`. */
async function packageRequestServer() {
  const { SsoIncomingMessage } = await importGuard();
  return { IncomingMessage: SsoIncomingMessage };
}

async function rawSetup() {
  const body = JSON.stringify({ user: 'bench-user' });
  const handler = (req, res) => {
    if (req.method === 'GET' && req.url === '/api/me') {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(body));
      res.end(body);
    } else {
      res.statusCode = 404;
      res.end();
    }
  };
  return { handler, signIn: async () => ({ cookie: undefined }), close: async () => {} };
}

/**
 * The scenarios, in table order. `major` names the bare Express scenario a ratio is taken
 * against; `user` is what the loaded request must answer; `anonymous` is what the same request
 * without a cookie must answer (proof the middleware is really guarding).
 */
export const SCENARIOS = [
  { name: 'node:http (raw)', id: 'raw', major: 4, user: 'bench-user', setup: rawSetup },
  {
    name: 'express 4 (bare)',
    id: 'express4',
    major: 4,
    user: 'bench-user',
    bare: true,
    setup: () => bareExpressSetup('express4'),
  },
  {
    name: 'express 5 (bare)',
    id: 'express5',
    major: 5,
    user: 'bench-user',
    bare: true,
    setup: () => bareExpressSetup('express'),
  },
  {
    name: 'floor: express 4 + req.sso/req.user set to constants',
    id: 'floor4',
    major: 4,
    user: 'bench-user',
    setup: () => floorSetup('express4'),
  },
  {
    name: 'floor: express 5 + req.sso/req.user set to constants',
    id: 'floor5',
    major: 5,
    user: 'bench-user',
    setup: () => floorSetup('express'),
  },
  {
    name: "floor + the guard's dependencies loaded, unused (axios, lru-cache, debug, @opentelemetry/api), express 5",
    id: 'floor5-deps',
    major: 5,
    user: 'bench-user',
    async setup() {
      // What the guard's process holds beyond the floor's before any request: its dependencies'
      // modules. Kept reachable so that they stay in the live heap, as in the guard's process.
      globalThis.benchRetained = await Promise.all(
        ['axios', 'lru-cache', 'debug', '@opentelemetry/api'].map((name) => import(name)),
      );
      return floorSetup('express');
    },
  },
  {
    name: 'floor, shape (a): req.sso/req.user as app.request accessors over a WeakMap slot, express 5',
    id: 'floor5-proto',
    major: 5,
    user: 'bench-user',
    setup: () => floorAccessorSetup('express'),
  },
  {
    name: 'floor, shape (b): IncomingMessage subclass declaring sso/user, express 5',
    id: 'floor5-declared',
    major: 5,
    user: 'bench-user',
    serverOptions: declaredRequestServer,
    setup: () => floorSetup('express'),
  },
  {
    name: 'floor, shape (b): IncomingMessage subclass declaring sso/user, express 4',
    id: 'floor4-declared',
    major: 4,
    user: 'bench-user',
    serverOptions: declaredRequestServer,
    setup: () => floorSetup('express4'),
  },
  {
    name: 'express-sso-guard, express 4',
    id: 'sso4',
    major: 4,
    user: 'usr-alice',
    anonymous: 401,
    guard: true,
    setup: (o) => ssoGuardSetup('express4', o),
  },
  {
    name: 'express-sso-guard, express 5',
    id: 'sso5',
    major: 5,
    user: 'usr-alice',
    anonymous: 401,
    guard: true,
    setup: (o) => ssoGuardSetup('express', o),
  },
  {
    name: 'express-sso-guard, shape (b): http.createServer({ IncomingMessage: SsoIncomingMessage }), express 5',
    id: 'sso5-declared',
    major: 5,
    user: 'usr-alice',
    anonymous: 401,
    serverOptions: packageRequestServer,
    setup: (o) => ssoGuardSetup('express', o),
  },
  {
    name: 'express-sso-guard, shape (b): http.createServer({ IncomingMessage: SsoIncomingMessage }), express 4',
    id: 'sso4-declared',
    major: 4,
    user: 'usr-alice',
    anonymous: 401,
    serverOptions: packageRequestServer,
    setup: (o) => ssoGuardSetup('express4', o),
  },
  {
    name: 'express-sso-guard + OpenTelemetry SDK (in-memory), express 5',
    id: 'sso5-otel',
    major: 5,
    user: 'usr-alice',
    anonymous: 401,
    setup: (o) => ssoGuardSetup('express', { ...o, guardMode: 'otel' }),
  },
  {
    name: 'express-sso-guard + Redis store, express 5',
    id: 'sso5-redis',
    major: 5,
    user: 'usr-alice',
    anonymous: 401,
    setup: (o) => ssoGuardSetup('express', { ...o, guardMode: 'redis' }),
  },
  {
    name: 'express-sso-guard session.serverSide + Redis store, express 5',
    id: 'sso5-server',
    major: 5,
    user: 'usr-alice',
    anonymous: 401,
    setup: (o) => ssoGuardSetup('express', { ...o, guardMode: 'server' }),
  },
  {
    name: 'express-sso-guard requiresAuth(), express 4',
    id: 'sso4-route',
    major: 4,
    user: 'usr-alice',
    anonymous: 401,
    publicPath: '/public',
    setup: (o) => ssoGuardSetup('express4', { ...o, guardMode: 'requiresAuth' }),
  },
  // Both peers run on Express 5: express-openid-connect builds its routes with `require('express')`,
  // which is Express 5 in this install, so an Express 4 app would still run an Express 5 router.
  {
    name: 'express-openid-connect, express 5',
    id: 'eoc5',
    major: 5,
    user: 'johndoe',
    anonymous: 302,
    anonymousAccept: 'text/html',
    setup: (o) => oidcSetup('express', o),
  },
  {
    name: 'passport + express-session, express 5',
    id: 'passport5',
    major: 5,
    user: 'bench-user',
    anonymous: 401,
    setup: (o) => passportSetup('express', o),
  },
];

export function scenarioById(id) {
  const s = SCENARIOS.find((x) => x.id === id);
  if (s === undefined) throw new Error(`unknown scenario "${id}"; known: ${SCENARIOS.map((x) => x.id).join(', ')}`);
  return s;
}
