/**
 * The middleware's own cost per request, without HTTP: `node bench/micro.mjs [--iterations=N]`.
 * Signs in once through the real routes (emulator, /login, /callback), warms the cache, then calls
 * the `auth()` middleware directly on real IncomingMessage/ServerResponse objects carrying the
 * session cookie, and reports nanoseconds per call (median of 7 batches). The loaded request of the
 * bench, minus Express and the socket: use it to see a hot-path change at once, then confirm it with
 * `npm run bench`.
 */
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { importGuard, signInSsoGuard } from './scenarios.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split('=');
  return [k, v ?? true];
}));
const iterations = Number(args.iterations ?? 200_000);
const { auth } = await importGuard();
const { startEmulator } = await importGuard('testing');

const sso = await startEmulator({ autoApprove: true, clientId: 'bench-client', clientSecret: 'bench-client-secret' });
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const guard = auth({ ssoBaseUrl: sso.url, appBaseUrl: base, clientId: 'bench-client', clientSecret: 'bench-client-secret', secret: 'bench-session-secret-at-least-32-characters' });
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
function once() {
  const req = new http.IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/api/me';
  req.headers = { host: '127.0.0.1', accept: '*/*', cookie };
  const res = new http.ServerResponse(req);
  guard(req, res, next);
  user = req.sso.user;
  return res;
}
// The request objects alone, to subtract.
function bare() {
  const req = new http.IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/api/me';
  req.headers = { host: '127.0.0.1', accept: '*/*', cookie };
  return new http.ServerResponse(req);
}

const time = (fn) => {
  const t = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - t) / iterations;
};
time(once);
time(bare);
const samples = [];
for (let i = 0; i < 7; i++) samples.push(time(once) - time(bare));
samples.sort((a, b) => a - b);
if (user?.user_id === undefined) throw new Error('the middleware did not authenticate the request');
console.log(`auth() middleware, authenticated cached request: ${(samples[3] / 1000).toFixed(2)} µs per call (min ${(samples[0] / 1000).toFixed(2)}, max ${(samples[6] / 1000).toFixed(2)}; ${iterations} calls x 7)`);
