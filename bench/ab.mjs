/**
 * Before/after of a change in one interleaved run: the package built from a git ref (the
 * baseline) and from the working tree, loaded side by side.
 *
 *   node bench/ab.mjs --ref=<git ref> [--with=<git ref>] [--major=5] [--rounds=5] [--duration=10]
 *                     [--scenarios=id,id] [--no-floor]
 *
 * `--ref` is built from `git archive <ref> lib` (no patch files: any commit, tag or branch);
 * the other side is the working tree's `lib/`, or `--with=<ref>` built the same way. Both are
 * built alike (tsup, ESM, no types) into bench/results/variants/<name>/dist (gitignored; the
 * dependencies resolve from the repository's node_modules). Each round loads bare Express, the
 * floor (bare + a middleware setting req.sso/req.user), the guard of each build and any
 * `--scenarios` of the working tree, in that order, a fresh server each; it prints every round
 * and then each entry's median req/s, ratio to bare Express and to the baseline (medians of
 * per-round ratios, with their min-max), server CPU µs, heap bytes and GC µs per request, p99.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioById } from './scenarios.mjs';
import { perRequest, startLoader, startServer, stopServer, usage, validate } from './procs.mjs';
import { median, parseArgs } from './args.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const variants = path.join(root, 'bench/results/variants');
const args = parseArgs(
  process.argv.slice(2),
  ['ref', 'with', 'major', 'rounds', 'duration', 'scenarios', 'no-floor'],
  'usage: node bench/ab.mjs --ref=<git ref> [--with=<git ref>] [--major=5] [--rounds=5] [--duration=10] [--scenarios=id,id] [--no-floor]',
);
if (typeof args.ref !== 'string') {
  console.error('--ref=<git ref> is required');
  process.exit(2);
}
const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();

/** Builds `lib/` of a git ref (or of the working tree when `ref` is undefined); returns `{ name, dist }`. */
async function build(ref) {
  const sha = ref === undefined ? undefined : git('rev-parse', '--verify', `${ref}^{commit}`);
  const name = sha === undefined ? 'worktree' : sha.slice(0, 12);
  const out = path.join(variants, name);
  const dir = mkdtempSync(path.join(os.tmpdir(), `sso-guard-${name}-`));
  try {
    if (sha === undefined) cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true });
    else {
      const tar = path.join(dir, 'lib.tar');
      execFileSync('git', ['archive', '--format=tar', `--output=${tar}`, sha, 'lib'], { cwd: root });
      execFileSync('tar', ['-xf', tar, '-C', dir]);
    }
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const { build: tsup } = await import('tsup');
    await tsup({
      config: false,
      entry: { index: path.join(dir, 'lib/index.ts'), 'testing/index': path.join(dir, 'lib/testing/index.ts') },
      format: ['esm'],
      outDir: path.join(out, 'dist'),
      target: 'node20',
      platform: 'node',
      dts: false,
      splitting: false,
      silent: true,
      // Dependencies stay imports, resolved from the repository's node_modules as in dist/.
      external: ['axios', 'debug', 'lru-cache', 'express', 'ioredis', 'redis', '@opentelemetry/api'],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`built ${ref ?? 'the working tree'} (${name}) into ${path.relative(root, out)}/dist`);
  return { name: sha === undefined ? 'worktree' : `${ref} (${name.slice(0, 8)})`, dist: path.join(out, 'dist') };
}

async function main() {
  const major = Number(args.major ?? 5);
  const rounds = Number(args.rounds ?? 5);
  const duration = Number(args.duration ?? 10);
  const base = await build(args.ref);
  const other = await build(typeof args.with === 'string' ? args.with : undefined);
  const guard = scenarioById(`sso${major}`);
  /** [key, label, scenario, env]; the first guard entry is the baseline. */
  const entries = [
    ['bare', `express ${major} (bare)`, scenarioById(`express${major}`), {}],
    ...(args['no-floor'] ? [] : [['floor', `floor${major}`, scenarioById(`floor${major}`), {}]]),
    ['base', base.name, guard, { SSO_GUARD_DIST: base.dist }],
    ['other', other.name, guard, { SSO_GUARD_DIST: other.dist }],
    ...(typeof args.scenarios === 'string' ? args.scenarios.split(',') : []).map((id) => {
      const s = scenarioById(id);
      return [id, `${id}: ${s.name}`, s, s.guard || id.startsWith('sso') ? { SSO_GUARD_DIST: other.dist } : {}];
    }),
  ];
  const loader = await startLoader();
  const results = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const r = {};
      for (const [key, , scenario, env] of entries) {
        const server = await startServer(scenario.id, [], env);
        try {
          await validate(scenario, server);
          const load = {
            url: `http://127.0.0.1:${server.port}`,
            path: server.path,
            headers: server.cookie ? { cookie: server.cookie } : {},
            connections: 50,
          };
          await loader.run({ ...load, duration: 1 });
          const before = await usage(server);
          const m = await loader.run({ ...load, duration });
          const after = await usage(server);
          if (m.non2xx + m.errors + m.timeouts > 0) throw new Error(`${key}: ${m.non2xx} non-2xx, ${m.errors} errors`);
          r[key] = { rps: m.rps, p99: m.latency.p99, ...perRequest(before, after, m.total) };
          console.log(
            `round ${round}/${rounds}  ${key.padEnd(16)} ${Math.round(m.rps).toString().padStart(6)} req/s  ${r[key].cpuPerRequest.toFixed(0).padStart(4)} µs/req  ${r[key].bytesPerRequest.toFixed(0).padStart(6)} B/req  GC ${r[key].gcMicrosPerRequest.toFixed(1)} µs/req  p99 ${m.latency.p99.toFixed(2)} ms`,
          );
        } finally {
          await stopServer(server);
        }
      }
      results.push(r);
    }
  } finally {
    loader.stop();
  }
  const spread = (xs) => `${median(xs).toFixed(2)}x (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
  console.log(
    `\n${new Date().toISOString()}, ${rounds} rounds x ${duration} s, Express ${major}, node ${process.version}, ${os.availableParallelism?.() ?? os.cpus().length} CPUs`,
  );
  console.log(
    `| build | req/s median | vs bare Express ${major} (min-max) | vs ${base.name} (min-max) | server CPU µs/req | heap B/req | GC µs/req | p99 ms |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [key, label, , env] of entries) {
    const xs = results.map((r) => r[key]);
    const vsBase = env.SSO_GUARD_DIST ? spread(results.map((r) => r[key].rps / r.base.rps)) : '-';
    console.log(
      `| ${label} | ${Math.round(median(xs.map((x) => x.rps)))} | ${spread(results.map((r) => r[key].rps / r.bare.rps))} | ${vsBase} | ${median(xs.map((x) => x.cpuPerRequest)).toFixed(0)} | ${median(xs.map((x) => x.bytesPerRequest)).toFixed(0)} | ${median(xs.map((x) => x.gcMicrosPerRequest)).toFixed(1)} | ${median(xs.map((x) => x.p99)).toFixed(2)} |`,
    );
  }
}

if (!existsSync(path.join(root, '.git'))) throw new Error('bench/ab.mjs needs a git checkout');
await main();
