/**
 * Where the time goes: `node bench/profile.mjs <scenario-id> [--duration=S] [--top=N]`.
 * Runs one scenario server under `node --cpu-prof`, loads it like bench/run.mjs does, stops it,
 * and prints the functions with the most self time (the profile is kept under
 * bench/results/profiles/ for Chrome DevTools or speedscope).
 *
 *   --vs=<scenario-id> [--rounds=N]   profiles both scenarios, alternately, N rounds each (default
 *       3), and prints where the first spends more per request than the second: self time per
 *       function and per package (µs/req, summed over the rounds), and GCs per request.
 *   --node-flags=--trace-deopt,...    extra V8/Node flags for the server (their output is printed).
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioById } from './scenarios.mjs';
import { perRequest, startLoader, startServer, stopServer, usage, validate } from './procs.mjs';
import { parseArgs } from './args.mjs';

const USAGE =
  'usage: node bench/profile.mjs <scenario-id> [--duration=10] [--top=25] [--vs=<scenario-id> --rounds=3] [--node-flags=--trace-deopt]';
const args = parseArgs(process.argv.slice(3), ['duration', 'top', 'vs', 'rounds', 'focus', 'node-flags'], USAGE);
const id = process.argv[2];
if (!id || id.startsWith('--')) {
  console.error(USAGE);
  process.exit(2);
}
const scenario = scenarioById(id);
const duration = Number(args.duration ?? 10);
const top = Number(args.top ?? 25);
const root = fileURLToPath(new URL('..', import.meta.url));
const nodeFlags = args['node-flags'] ? String(args['node-flags']).split(',') : [];

/** Profiles one scenario under load; returns the parsed profile, the load's figures and the dir. */
async function profileOnce(loader, scenarioId) {
  const dir = fileURLToPath(new URL(`./results/profiles/${scenarioId}-${Date.now()}/`, import.meta.url));
  mkdirSync(dir, { recursive: true });
  const server = await startServer(scenarioId, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...nodeFlags]);
  await validate(scenarioById(scenarioId), server);
  const load = {
    url: `http://127.0.0.1:${server.port}`,
    path: server.path,
    headers: server.cookie ? { cookie: server.cookie } : {},
    connections: 50,
  };
  await loader.run({ ...load, duration: 1 });
  const before = await usage(server);
  const r = await loader.run({ ...load, duration });
  const after = await usage(server);
  await stopServer(server);
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  return { profile: JSON.parse(readFileSync(file, 'utf8')), r, file, per: perRequest(before, after, r.total) };
}

const where = (cf) => {
  if (!cf.url) return '(native)';
  let u = cf.url.replace(/^file:\/\//, '');
  if (u.startsWith(root)) u = u.slice(root.length);
  u = u.replace(/^node_modules\//, '');
  return `${u}:${cf.lineNumber + 1}`;
};
const packageOf = (cf) => {
  if (!cf.url) return cf.functionName.startsWith('(') ? cf.functionName : '(native / V8 builtins)';
  if (cf.url.startsWith('node:')) return 'node core';
  if (cf.url.includes('/dist/')) return 'express-sso-guard (dist)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(cf.url);
  return m ? m[1] : path.relative(root, cf.url.startsWith('file:') ? fileURLToPath(cf.url) : cf.url);
};

/** Self time (µs) per sampled node, per function and per package. */
function selfTimes(profile) {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    hits.set(profile.samples[i], (hits.get(profile.samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map();
  const byPackage = new Map();
  for (const [nodeId, t] of hits) {
    const cf = byNode.get(nodeId).callFrame;
    const key = `${cf.functionName || '(anonymous)'}  ${where(cf)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + t);
    const pkg = packageOf(cf);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
  }
  return { byNode, hits, byFunction, byPackage, total: [...hits.values()].reduce((a, b) => a + b, 0) };
}

const loader = await startLoader();
try {
  if (args.vs) await compare(String(args.vs));
  else await single();
} finally {
  loader.stop();
}

/** `--vs`: where `id` spends more per request than `args.vs`, summed over alternating rounds. */
async function compare(vs) {
  const rounds = Number(args.rounds ?? 3);
  const sums = { [id]: newSum(), [vs]: newSum() };
  for (let round = 1; round <= rounds; round++)
    for (const sid of [id, vs]) {
      const { profile, r, per } = await profileOnce(loader, sid);
      const t = selfTimes(profile);
      const s = sums[sid];
      s.requests += r.total;
      for (const [k, v] of t.byFunction) s.byFunction.set(k, (s.byFunction.get(k) ?? 0) + v);
      for (const [k, v] of t.byPackage) s.byPackage.set(k, (s.byPackage.get(k) ?? 0) + v);
      s.gc.push(per);
      console.log(
        `round ${round}/${rounds}  ${sid.padEnd(12)} ${Math.round(r.rps)} req/s  ${per.cpuPerRequest.toFixed(0)} µs/req CPU  ${per.bytesPerRequest.toFixed(0)} B/req  GC ${per.gcMicrosPerRequest.toFixed(1)} µs/req (${per.scavenges} scavenges, ${per.markCompacts} full)`,
      );
    }
  const perReq = (s, m, k) => (m.get(k) ?? 0) / s.requests;
  const diff = (m) => {
    const keys = new Set([...sums[id][m].keys(), ...sums[vs][m].keys()]);
    return [...keys]
      .map((k) => [k, perReq(sums[id], sums[id][m], k), perReq(sums[vs], sums[vs][m], k)])
      .filter(([k]) => k !== '(idle)  (native)' && k !== '(idle)')
      .sort((a, b) => b[1] - b[2] - (a[1] - a[2]));
  };
  const line = ([k, a, b]) =>
    `  ${(a - b >= 0 ? '+' : '') + (a - b).toFixed(2).padStart(6)}  ${a.toFixed(2).padStart(6)} ${b.toFixed(2).padStart(6)}  ${k}`;
  const total = (s) =>
    [...s.byFunction].filter(([k]) => !k.startsWith('(idle)')).reduce((n, [, v]) => n + v, 0) / s.requests;
  console.log(
    `\n${id} vs ${vs}, ${rounds} rounds x ${duration} s each: sampled busy time ${total(sums[id]).toFixed(1)} vs ${total(sums[vs]).toFixed(1)} µs/req`,
  );
  console.log(`\nBy package (µs/req: difference, ${id}, ${vs}):`);
  for (const row of diff('byPackage')) console.log(line(row));
  console.log(`\nFunctions where ${id} spends the most more (top ${top}):`);
  for (const row of diff('byFunction').slice(0, top)) console.log(line(row));
  console.log(`\nFunctions where ${id} spends the most less (top ${Math.min(top, 10)}):`);
  for (const row of diff('byFunction').reverse().slice(0, Math.min(top, 10))) console.log(line(row));
}

function newSum() {
  return { requests: 0, byFunction: new Map(), byPackage: new Map(), gc: [] };
}

async function single() {
  const { profile, r, file, per } = await profileOnce(loader, id);
  const { byNode, hits, byFunction, byPackage, total } = selfTimes(profile);
  // Inclusive time of the focus functions (the middleware itself and what it calls), not counting
  // what runs under Express's `next` (the rest of the app, called synchronously from the middleware).
  const focus = String(args.focus ?? 'ssoGuard,requiresAuthGuard').split(',');
  const inclusive = new Map(focus.map((f) => [f, 0]));
  const insideFocus = new Map();
  const walk = (nodeId, inside) => {
    const n = byNode.get(nodeId);
    const name = n.callFrame.functionName;
    if (inside !== undefined && name === 'next' && /router|express/.test(n.callFrame.url)) inside = undefined;
    const now = inside ?? (inclusive.has(name) ? name : undefined);
    if (now !== undefined) {
      const t = hits.get(nodeId) ?? 0;
      inclusive.set(now, inclusive.get(now) + t);
      const key = `${name || '(anonymous)'}  ${where(n.callFrame)}`;
      insideFocus.set(key, (insideFocus.get(key) ?? 0) + t);
    }
    for (const c of n.children ?? []) walk(c, now);
  };
  walk(profile.nodes[0].id, undefined);

  const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  console.log(
    `${scenario.name}: ${Math.round(r.rps)} req/s over ${duration} s; ${per.cpuPerRequest.toFixed(0)} µs CPU, ${per.bytesPerRequest.toFixed(0)} B allocated, GC ${per.gcMicrosPerRequest.toFixed(1)} µs (${per.scavenges} scavenges, ${per.markCompacts} full) per request; ${(total / 1000).toFixed(0)} ms sampled; profile ${path.relative(root, file)}\n`,
  );
  console.log(`Top ${top} functions by self time:`);
  for (const [k, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(t)}  ${(t / r.total).toFixed(1).padStart(5)} µs/req  ${k}`);
  console.log('\nInclusive time (the function and what it calls, minus the rest of the app under `next`):');
  for (const [k, t] of inclusive) console.log(`  ${pct(t)}  ${k}  (${(t / r.total).toFixed(1)} µs per request)`);
  console.log(`\nInside ${focus.join(' / ')}, by self time:`);
  for (const [k, t] of [...insideFocus].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(t)}  ${(t / r.total).toFixed(1).padStart(5)} µs/req  ${k}`);
  console.log('\nSelf time by package:');
  for (const [k, t] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`  ${pct(t)}  ${(t / r.total).toFixed(1).padStart(5)} µs/req  ${k}`);
}
