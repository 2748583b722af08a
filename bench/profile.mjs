/**
 * Where the time goes: `node bench/profile.mjs <scenario-id> [--duration=S] [--top=N]`.
 * Runs one scenario server under `node --cpu-prof`, loads it like bench/run.mjs does, stops it,
 * and prints the functions with the most self time (the profile is kept under
 * bench/results/profiles/ for Chrome DevTools or speedscope).
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioById } from './scenarios.mjs';
import { startLoader, startServer, stopServer, validate } from './procs.mjs';

const args = Object.fromEntries(
  process.argv.slice(3).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
const id = process.argv[2];
if (!id || id.startsWith('--')) {
  console.error('usage: node bench/profile.mjs <scenario-id> [--duration=10] [--top=25]');
  process.exit(2);
}
const scenario = scenarioById(id);
const duration = Number(args.duration ?? 10);
const top = Number(args.top ?? 25);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = fileURLToPath(new URL(`./results/profiles/${id}-${Date.now()}/`, import.meta.url));
mkdirSync(dir, { recursive: true });

const loader = await startLoader();
const server = await startServer(id, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
await validate(scenario, server);
const load = {
  url: `http://127.0.0.1:${server.port}`,
  path: server.path,
  headers: server.cookie ? { cookie: server.cookie } : {},
  connections: 50,
};
await loader.run({ ...load, duration: 1 });
const r = await loader.run({ ...load, duration });
await stopServer(server);
loader.stop();

const file = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => path.join(dir, f))
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time per node = samples that landed in it; the sampling interval comes from timeDeltas.
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  hits.set(profile.samples[i], (hits.get(profile.samples[i]) ?? 0) + dt);
}
const total = [...hits.values()].reduce((a, b) => a + b, 0);
const where = (cf) => {
  if (!cf.url) return '(native)';
  let u = cf.url.replace(/^file:\/\//, '');
  if (u.startsWith(root)) u = u.slice(root.length);
  u = u.replace(/^node_modules\//, '');
  return `${u}:${cf.lineNumber + 1}`;
};
const byFunction = new Map();
for (const [nodeId, t] of hits) {
  const cf = byNode.get(nodeId).callFrame;
  const key = `${cf.functionName || '(anonymous)'}  ${where(cf)}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + t);
}
// By package too: which library the self time is spent in.
const byPackage = new Map();
for (const [nodeId, t] of hits) {
  const cf = byNode.get(nodeId).callFrame;
  let pkg;
  if (!cf.url) pkg = cf.functionName.startsWith('(') ? cf.functionName : '(native / V8 builtins)';
  else if (cf.url.startsWith('node:')) pkg = 'node core';
  else if (cf.url.includes('/dist/')) pkg = 'express-sso-guard (dist)';
  else {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(cf.url);
    pkg = m ? m[1] : path.relative(root, cf.url.startsWith('file:') ? fileURLToPath(cf.url) : cf.url);
  }
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
}

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
  `${scenario.name}: ${Math.round(r.rps)} req/s over ${duration} s; ${(total / 1000).toFixed(0)} ms sampled; profile ${path.relative(root, file)}\n`,
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
