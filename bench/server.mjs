/**
 * One scenario server: `node bench/server.mjs <scenario-id>`, forked by bench/run.mjs (or
 * bench/profile.mjs) with an IPC channel. It listens on 127.0.0.1 (a free port), signs in once,
 * then reports `{ type: 'ready', port, path, cookie }`. Over IPC it answers `usage` with its own
 * process.cpuUsage() and memory, and exits on `stop`.
 */
import http from 'node:http';
import { scenarioById } from './scenarios.mjs';

if (typeof process.send !== 'function') {
  console.error('bench/server.mjs is started by bench/run.mjs (it needs an IPC channel)');
  process.exit(2);
}

const scenario = scenarioById(process.argv[2]);
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
const base = `http://127.0.0.1:${port}`;

const app = await scenario.setup({ base });
server.on('request', app.handler);
const { cookie } = await app.signIn();

process.on('message', async (msg) => {
  if (msg.type === 'usage') {
    process.send({ type: 'usage', id: msg.id, cpu: process.cpuUsage(), memory: process.memoryUsage() });
  } else if (msg.type === 'stop') {
    server.closeAllConnections();
    server.close();
    await app.close();
    // A normal exit, so `--cpu-prof` writes its profile.
    process.exit(0);
  }
});
// The parent went away (crashed, interrupted): do not linger.
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', port, path: '/api/me', cookie });
