/**
 * Scenarios without sockets or a load generator, for figures a busy machine does not blur.
 *
 *   node bench/inprocess.mjs --instructions [--ids=express5,floor5,sso5] [--requests=4000]
 *       machine instructions per request, counted by valgrind (cachegrind): each scenario is run
 *       twice under `valgrind --tool=cachegrind`, after the same warm-up (--warmup, default 3000
 *       requests) and a full GC, with N and 2N requests; (instructions of the 2N run - those of
 *       the N run) / N is the cost of one request, startup, sign-in and JIT warm-up cancelled
 *       out. `node --single-threaded` (no concurrent GC or compiler threads) and a young
 *       generation no GC runs in (checked) keep the count repeatable: GC is not in it. It does
 *       not depend on what else the machine runs. Needs `valgrind`; ~2-5 min per scenario.
 *       --gc: with V8's default heap sizes instead, so that the scavenges and the mark-compacts
 *       of N requests (and, --single-threaded, their marking and sweeping, done on the main thread)
 *       are in the count: what a larger live heap costs each request (default --requests=15000).
 *       --keep keeps the cachegrind files: `cg_diff <id>-N.out <id>-2N.out > d; cg_annotate d`
 *       lists the native functions (V8's runtime, builtins are one JIT blob) of N requests.
 *   node bench/inprocess.mjs --ics [--ids=express5,floor5,sso5] [--requests=1000]
 *       inline-cache misses per request (`node --log-ic`, N and 2N requests, the difference / N):
 *       each is a property read or write the JIT could not serve from its caches and did in the
 *       runtime (state N->N: megamorphic, the stub cache missed). Per scenario, then per property
 *       name where each scenario differs from the first of `--ids`.
 *   node bench/inprocess.mjs --spaces [--ids=…] [--requests=2000]
 *       bytes allocated per request in each V8 heap space (young generation, old space, code),
 *       from the used size of each space before and after N requests among which no GC ran.
 *   node bench/inprocess.mjs --cpu [--ids=…] [--requests=20000] [--rounds=7]
 *       CPU µs per request (process.cpuUsage: this process only) and GC µs per request, scenarios
 *       interleaved round by round in one process; medians and min-max.
 *   node bench/inprocess.mjs --drive=<id> --requests=N   (what --instructions runs under valgrind)
 *
 * Each scenario is bench/scenarios.mjs's own: its app, its request class (`serverOptions`), its
 * sign-in through the real routes (the identity provider runs in a process of its own, outside
 * valgrind). Requests are real IncomingMessage/ServerResponse objects carrying the scenario's
 * Cookie header, as in bench/alloc.mjs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { scenarioById } from './scenarios.mjs';
import { median, parseArgs } from './args.mjs';

const args = parseArgs(
  process.argv.slice(2),
  [
    'instructions',
    'ics',
    'spaces',
    'cpu',
    'drive',
    'ids',
    'requests',
    'rounds',
    'warmup',
    'keep',
    'print-spaces',
    'gc',
  ],
  'usage: node bench/inprocess.mjs --instructions|--ics|--spaces|--cpu [--ids=id,id] [--requests=N] [--rounds=N] [--warmup=N] [--keep]',
);
const WARMUP = Number(args.warmup ?? 3000);

/** A scenario's app, signed in over a real listening server, then driven without sockets. */
async function prepare(id) {
  const scenario = scenarioById(id);
  const options = scenario.serverOptions ? await scenario.serverOptions() : {};
  const server = http.createServer(options);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const app = await scenario.setup({ base: `http://127.0.0.1:${server.address().port}` });
  server.on('request', app.handler);
  const { cookie } = await app.signIn();
  server.closeAllConnections();
  server.close();
  const Request = options.IncomingMessage ?? http.IncomingMessage;
  const socket = new net.Socket();
  const fail = (err) => {
    if (err) throw err;
  };
  const headers = cookie ? { host: '127.0.0.1', accept: '*/*', cookie } : { host: '127.0.0.1', accept: '*/*' };
  const drive = (n) => {
    for (let i = 0; i < n; i++) {
      const req = new Request(socket);
      req.method = 'GET';
      req.url = '/api/me';
      req.headers = { ...headers };
      const res = new http.ServerResponse(req);
      app.handler(req, res, fail);
      if (res.statusCode !== 200) throw new Error(`${id} answered ${res.statusCode}`);
    }
  };
  return { drive, close: () => app.close() };
}

/**
 * Run under valgrind: warm up, a full GC, then exactly N requests in a young generation large
 * enough that no GC runs among them (checked), so the count is the requests' own work: what GC
 * costs on top is measured over HTTP (GC µs/req, bench/run.mjs).
 */
async function driveOnly(id, n) {
  const { drive, close } = await prepare(id);
  drive(WARMUP);
  if (typeof globalThis.gc !== 'function') throw new Error('--drive needs node --expose-gc');
  globalThis.gc();
  const gcs = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const spaces = () => new Map(getHeapSpaceStatistics().map((x) => [x.space_name, x.space_used_size]));
  const before = spaces();
  drive(n);
  const after = spaces();
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  await close();
  if (gcs.length > 0 && !args.gc) {
    console.error(`${gcs.length} GC(s) ran during the ${n} requests: lower --requests`);
    process.exit(3);
  }
  if (args['print-spaces'])
    console.log(
      `  ${id.padEnd(16)} ${[...after]
        .filter(([k, v]) => v !== before.get(k))
        .map(([k, v]) => `${k} ${Math.round((v - before.get(k)) / n)}`)
        .join(', ')} B/request`,
    );
  process.exit(0);
}

function instructions(ids, n, withGc) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sso-guard-ir-'));
  const self = fileURLToPath(import.meta.url);
  const count = (id, requests) => {
    const out = path.join(dir, `${id}-${requests}.out`);
    execFileSync(
      'valgrind',
      [
        '-q',
        '--tool=cachegrind',
        '--cache-sim=no',
        `--cachegrind-out-file=${out}`,
        process.execPath,
        '--single-threaded',
        '--expose-gc',
        ...(withGc ? [] : ['--min-semi-space-size=256', '--max-semi-space-size=256']),
        self,
        `--drive=${id}`,
        `--requests=${requests}`,
        `--warmup=${WARMUP}`,
        ...(withGc ? ['--gc'] : []),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const summary = /^summary:\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
    if (!summary) throw new Error(`no cachegrind summary for ${id}`);
    return Number(summary[1]);
  };
  const rows = [];
  try {
    for (const id of ids) {
      const perRequest = (count(id, 2 * n) - count(id, n)) / n;
      rows.push([id, perRequest]);
      console.log(
        `  ${id.padEnd(16)} ${Math.round(perRequest).toLocaleString('en-US').padStart(9)} instructions/request`,
      );
    }
  } finally {
    // --keep: the cachegrind files stay, for `cg_diff <id>-N.out <id>-2N.out | cg_annotate`.
    if (args.keep) console.log(`  cachegrind files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** IC events of a `--log-ic` log, by `kind key old>new`. */
function icEvents(file) {
  const counts = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(',');
    if (f.length < 9 || !/^(Keyed)?(Load|Store|LoadGlobal|StoreInArrayLiteral)IC$/.test(f[0])) continue;
    const key = `${f[0]} ${f[8]} ${f[5]}>${f[6]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function ics(ids, n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sso-guard-ic-'));
  const self = fileURLToPath(import.meta.url);
  const run = (id, requests) => {
    const log = path.join(dir, `${id}-${requests}.log`);
    execFileSync(
      process.execPath,
      [
        '--log-ic',
        `--logfile=${log}`,
        '--no-logfile-per-isolate',
        '--expose-gc',
        '--min-semi-space-size=256',
        '--max-semi-space-size=256',
        self,
        `--drive=${id}`,
        `--requests=${requests}`,
        `--warmup=${WARMUP}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    return icEvents(log);
  };
  const per = new Map();
  try {
    for (const id of ids) {
      const [a, b] = [run(id, n), run(id, 2 * n)];
      const diff = new Map();
      for (const k of new Set([...a.keys(), ...b.keys()])) {
        const d = ((b.get(k) ?? 0) - (a.get(k) ?? 0)) / n;
        if (Math.abs(d) >= 0.5) diff.set(k, d);
      }
      per.set(id, diff);
      const total = [...diff.values()].reduce((x, y) => x + y, 0);
      console.log(`  ${id.padEnd(16)} ${total.toFixed(1).padStart(6)} IC misses/request`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const first = per.get(ids[0]);
  for (const id of ids.slice(1)) {
    const d = per.get(id);
    const rows = [...new Set([...first.keys(), ...d.keys()])]
      .map((k) => [k, (d.get(k) ?? 0) - (first.get(k) ?? 0)])
      .filter(([, v]) => Math.abs(v) >= 0.5)
      .sort((x, y) => y[1] - x[1]);
    console.log(
      `  ${id} - ${ids[0]}: ${rows.map(([k, v]) => `${v > 0 ? '+' : ''}${v.toFixed(0)} ${k}`).join(', ') || 'none'}`,
    );
  }
}

async function cpu(ids, n, rounds) {
  const apps = [];
  for (const id of ids) apps.push([id, await prepare(id)]);
  const gcs = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  for (const [, a] of apps) a.drive(WARMUP);
  const out = Object.fromEntries(ids.map((id) => [id, { cpu: [], gc: [] }]));
  for (let round = 0; round < rounds; round++)
    for (const [id, a] of apps) {
      await settle();
      gcs.length = 0;
      const start = process.cpuUsage();
      a.drive(n);
      const used = process.cpuUsage(start);
      await settle();
      out[id].cpu.push((used.user + used.system) / n);
      out[id].gc.push((gcs.reduce((t, e) => t + e.duration, 0) * 1000) / n);
    }
  observer.disconnect();
  for (const [id, { cpu: c, gc }] of Object.entries(out))
    console.log(
      `  ${id.padEnd(16)} ${median(c).toFixed(1).padStart(6)} µs CPU/request (${Math.min(...c).toFixed(1)}-${Math.max(...c).toFixed(1)})  GC ${median(gc).toFixed(1)} µs/request`,
    );
  for (const [, a] of apps) await a.close();
}

const ids = String(args.ids ?? 'express5,floor5,sso5').split(',');
if (typeof args.drive === 'string') await driveOnly(args.drive, Number(args.requests ?? 4000));
else if (args.instructions) {
  const withGc = args.gc === true;
  console.log(
    `Instructions per request (valgrind cachegrind, node --single-threaded, ${withGc ? 'GC included' : 'no GC'}, ${process.version}):`,
  );
  instructions(ids, Number(args.requests ?? (withGc ? 15000 : 4000)), withGc);
} else if (args.ics) {
  console.log(`Inline-cache misses per request (node --log-ic, ${process.version}):`);
  ics(ids, Number(args.requests ?? 1000));
} else if (args.spaces) {
  console.log(`Bytes allocated per request by heap space (no GC among the requests, ${process.version}):`);
  for (const id of ids)
    execFileSync(
      process.execPath,
      [
        '--expose-gc',
        '--min-semi-space-size=256',
        '--max-semi-space-size=256',
        fileURLToPath(import.meta.url),
        `--drive=${id}`,
        `--requests=${args.requests ?? 2000}`,
        `--warmup=${WARMUP}`,
        '--print-spaces',
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
} else if (args.cpu) {
  console.log(`CPU per request in-process (${args.rounds ?? 7} rounds interleaved, ${process.version}):`);
  await cpu(ids, Number(args.requests ?? 20000), Number(args.rounds ?? 7));
  process.exit(0);
} else {
  console.error(
    'usage: node bench/inprocess.mjs --instructions|--ics|--cpu [--ids=express5,floor5,sso5] [--requests=N] [--warmup=N]',
  );
  process.exit(2);
}
