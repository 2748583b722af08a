/**
 * Bytes allocated per request, in-process: `node --expose-gc --max-semi-space-size=256 bench/alloc.mjs [--requests=N]`
 * (bench/run.mjs forks it so). For bare Express, the floor (bare + a middleware setting `req.sso`
 * and `req.user` to constants) and express-sso-guard on a cached, authenticated request, on
 * Express 4 and 5: the same GET /api/me with the same-size Cookie header, on real
 * IncomingMessage/ServerResponse objects (no socket), N times after a warm-up. Allocation is the
 * growth of the V8 heap between a full GC before and the end of the N requests, with a young
 * generation large enough that no GC runs in between (checked: a GC in the window voids the figure).
 * Prints one line per app and, on an IPC channel, sends `{ type: 'alloc', results }`.
 */
import http from 'node:http';
import net from 'node:net';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { floorSetup, importGuard, signInSsoGuard, SAME_SIZE_COOKIE } from './scenarios.mjs';
import { parseArgs } from './args.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc --max-semi-space-size=256 bench/alloc.mjs');
  process.exit(2);
}
const args = parseArgs(
  process.argv.slice(2),
  ['requests'],
  'usage: node --expose-gc --max-semi-space-size=256 bench/alloc.mjs [--requests=N]',
);
const N = Number(args.requests ?? 4000);
const load = async (name) => {
  const m = await import(name);
  return m.default ?? m;
};
const express5 = await load('express');
const express4 = await load('express4');
const { auth } = await importGuard();
const { startEmulator } = await importGuard('testing');

// Sign in once through the real routes, then drive the same middleware without sockets.
const sso = await startEmulator({ autoApprove: true, clientId: 'bench-client', clientSecret: 'bench-client-secret' });
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const guard = auth({
  ssoBaseUrl: sso.url,
  appBaseUrl: base,
  clientId: 'bench-client',
  clientSecret: 'bench-client-secret',
  secret: 'bench-session-secret-at-least-32-characters',
});
const signInApp = express5();
signInApp.use(guard);
signInApp.get('/api/me', (req, res) => res.json({ user: req.sso.user.user_id }));
server.on('request', signInApp);
const guardCookie = await signInSsoGuard(base);
const warm = await fetch(`${base}/api/me`, { headers: { cookie: guardCookie } });
if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
server.closeAllConnections();
server.close();
await sso.close();

function bare(express) {
  const app = express();
  app.get('/api/me', (req, res) => res.json({ user: 'bench-user' }));
  return app;
}
function guarded(express) {
  const app = express();
  app.use(guard);
  app.get('/api/me', (req, res) => res.json({ user: req.sso.user.user_id }));
  return app;
}

const socket = new net.Socket();
let status = 0;
const fail = (err) => {
  if (err) throw err;
};
function drive(app, cookie) {
  const req = new http.IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/api/me';
  req.headers = { host: '127.0.0.1', accept: '*/*', cookie };
  const res = new http.ServerResponse(req);
  app(req, res, fail);
  status = res.statusCode;
}

/** Start times of every GC (entries arrive asynchronously, so a window is checked afterwards). */
const gcs = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push(e.startTime);
});
observer.observe({ entryTypes: ['gc'] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

async function bytesPerRequest(app, cookie) {
  for (let i = 0; i < 5000; i++) drive(app, cookie);
  if (status !== 200) throw new Error(`the app answered ${status}`);
  const samples = [];
  for (let round = 0; round < 5; round++) {
    globalThis.gc();
    await settle();
    const t0 = performance.now();
    const start = process.memoryUsage().heapUsed;
    for (let i = 0; i < N; i++) drive(app, cookie);
    const end = process.memoryUsage().heapUsed;
    const t1 = performance.now();
    await settle();
    if (!gcs.some((t) => t >= t0 && t <= t1)) samples.push((end - start) / N);
  }
  if (samples.length === 0) return undefined;
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

const apps = [
  ['express4', 'express 4 (bare)', bare(express4), SAME_SIZE_COOKIE],
  ['floor4', 'floor, express 4', (await floorSetup('express4')).handler, SAME_SIZE_COOKIE],
  ['sso4', 'express-sso-guard, express 4', guarded(express4), guardCookie],
  ['express5', 'express 5 (bare)', bare(express5), SAME_SIZE_COOKIE],
  ['floor5', 'floor, express 5', (await floorSetup('express')).handler, SAME_SIZE_COOKIE],
  ['sso5', 'express-sso-guard, express 5', guarded(express5), guardCookie],
];
const results = {};
for (const [id, name, app, cookie] of apps) {
  const bytes = await bytesPerRequest(app, cookie);
  results[id] = { name, bytes };
}
observer.disconnect();
for (const [id, { name, bytes }] of Object.entries(results)) {
  const bareId = `express${id.slice(-1)}`;
  const extra =
    id === bareId || bytes === undefined ? '' : ` (+${Math.round(bytes - results[bareId].bytes)} over bare)`;
  console.log(
    `  ${name}: ${bytes === undefined ? 'not measured (a GC ran in every window)' : `${Math.round(bytes)} B/request${extra}`}`,
  );
}
process.send?.({ type: 'alloc', requests: N, results });
