/**
 * One scenario server: `node bench/server.mjs <scenario-id>`, forked by bench/run.mjs (or
 * bench/profile.mjs, bench/ab.mjs) with an IPC channel. It listens on 127.0.0.1 (a free port),
 * signs in once, then reports `{ type: 'ready', port, path, cookie }`. Over IPC it answers `usage`
 * with its own process.cpuUsage(), memory and heap counters (`heap`: bytes allocated and GCs since
 * the previous `usage`), and exits on `stop`.
 */
import http from 'node:http';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { scenarioById } from './scenarios.mjs';

if (typeof process.send !== 'function') {
  console.error('bench/server.mjs is started by bench/run.mjs (it needs an IPC channel)');
  process.exit(2);
}

const scenario = scenarioById(process.argv[2]);
// A scenario may give the server its own request class (http.createServer({ IncomingMessage })).
const server = http.createServer(scenario.serverOptions ? await scenario.serverOptions() : {});
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
const base = `http://127.0.0.1:${port}`;

const app = await scenario.setup({ base });
server.on('request', app.handler);
const { cookie } = await app.signIn();

/**
 * Bytes allocated and GCs between two `usage` calls, from V8's own GC records: allocated = growth
 * of the used heap + what every GC in between freed (exact up to what a GC frees of the objects
 * allocated during it). Scavenges (young generation) and mark-compacts (full GCs) counted apart.
 */
let gcProfiler;
let heapUsedAtMark = 0;
function heapSinceLastCall() {
  const records = gcProfiler?.stop().statistics ?? [];
  const used = getHeapStatistics().used_heap_size;
  const heap = { allocatedBytes: used - heapUsedAtMark, scavenges: 0, markCompacts: 0, gcMicros: 0 };
  for (const r of records) {
    heap.allocatedBytes += r.beforeGC.heapStatistics.usedHeapSize - r.afterGC.heapStatistics.usedHeapSize;
    heap.gcMicros += r.cost;
    if (r.gcType === 'Scavenge' || r.gcType === 'MinorMarkCompact') heap.scavenges++;
    else if (r.gcType === 'MarkSweepCompact') heap.markCompacts++;
  }
  gcProfiler = new GCProfiler();
  gcProfiler.start();
  heapUsedAtMark = getHeapStatistics().used_heap_size;
  return heap;
}

process.on('message', async (msg) => {
  if (msg.type === 'usage') {
    const heap = heapSinceLastCall();
    process.send({ type: 'usage', id: msg.id, cpu: process.cpuUsage(), memory: process.memoryUsage(), heap });
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
