/**
 * The middleware's own cost per request, without HTTP: `node bench/micro.mjs [--iterations=N]`.
 * Signs in once through the real routes (emulator, /login, /callback), warms the cache, then calls
 * the `auth()` middleware on real IncomingMessage/ServerResponse objects carrying the session
 * cookie: alone, and inside an Express 5 app against the same app without it (median of 7
 * batches), and the extra cost of a pathological Cookie header (16 KB of ";"). The loaded request of the bench minus the socket: use it to see a hot-path change at
 * once, then confirm it with `npm run bench`.
 */
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { importGuard, signInSsoGuard } from './scenarios.mjs';
import { parseArgs } from './args.mjs';

const args = parseArgs(process.argv.slice(2), ['iterations'], 'usage: node bench/micro.mjs [--iterations=N]');
const iterations = Number(args.iterations ?? 200_000);
const { auth } = await importGuard();
const { startEmulator } = await importGuard('testing');

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
const app = express();
app.use(guard);
app.get('/api/me', (req, res) => res.json({ user: req.sso.user.user_id }));
server.on('request', app);
const cookie = await signInSsoGuard(base);
const warm = await fetch(`${base}/api/me`, { headers: { cookie } });
if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
server.closeAllConnections();
server.close();
await sso.close();

const socket = new net.Socket();
let user;
const next = (err) => {
  if (err) throw err;
};
function request(cookieHeader = cookie) {
  const req = new http.IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/api/me';
  req.headers = { host: '127.0.0.1', accept: '*/*', cookie: cookieHeader };
  return [req, new http.ServerResponse(req)];
}
// The middleware alone, on fresh request objects (their creation measured apart and subtracted).
function direct() {
  const [req, res] = request();
  guard(req, res, next);
  user = req.sso.user;
}
// The same request with a pathological Cookie header (16 KB of ";" after the session cookie): the
// parse must stay linear, so this costs about what reading 16 KB once does.
const pathological = `${cookie}; ${';'.repeat(16_384)}`;
function directPathological() {
  const [req, res] = request(pathological);
  guard(req, res, next);
  user = req.sso.user;
}
function objectsOnly() {
  request();
}
// The same request through a whole Express app (no socket), with and without the middleware: the
// difference is what the middleware adds inside Express (its router layer, and the properties it
// adds to a request object whose prototype Express has swapped, which V8 makes slow).
const bare = express();
bare.get('/api/me', (req, res) => res.json({ user: 'bench-user' }));
const guarded = express();
guarded.use(guard);
guarded.get('/api/me', (req, res) => res.json({ user: req.sso.user.user_id }));
const through = (app) => () => {
  const [req, res] = request();
  app(req, res, next);
};

const time = (fn) => {
  const t = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - t) / iterations;
};
const measure = (a, b) => {
  time(a);
  time(b);
  const as = [];
  const bs = [];
  for (let i = 0; i < 7; i++) {
    as.push(time(a));
    bs.push(time(b));
  }
  const med = (xs) => xs.sort((x, y) => x - y)[3];
  return { diff: med(as) - med(bs), a: med(as), b: med(bs) };
};
const show = (label, m) =>
  console.log(
    `${label}: ${(m.diff / 1000).toFixed(2)} µs per request (${(m.a / 1000).toFixed(2)} - ${(m.b / 1000).toFixed(2)}; medians of 7 x ${iterations})`,
  );
const alone = measure(direct, objectsOnly);
show('auth() middleware alone, authenticated cached request', alone);
if (user?.user_id === undefined) throw new Error('the middleware did not authenticate the request');
const slow = measure(directPathological, direct);
console.log(
  `Cookie header parse: normal header ${(alone.diff / 1000).toFixed(2)} µs per request (whole middleware); 16 KB of ";" appended: +${(slow.diff / 1000).toFixed(2)} µs per parse`,
);
show('added to an Express 5 app (guarded app - bare app)', measure(through(guarded), through(bare)));
