/**
 * Before/after of a hot-path change, in one run: builds of the package side by side.
 *
 *   node bench/ab.mjs build <label> [--reverse=a.patch,b.patch]
 *       copies lib/ to a temporary directory (outside the TypeScript project), reverse-applies the
 *       given patches to the copy (so "before" differs from "after" by that change only, whatever
 *       else lib/ gained meanwhile) and builds it (ESM only, no types) into
 *       bench/results/variants/<label>/dist.
 *   node bench/ab.mjs run <label> [<label> ...] [--major=5] [--rounds=5] [--duration=10]
 *       loads bare Express, the floor (bare + a middleware setting req.sso/req.user) and
 *       express-sso-guard from each build, interleaved round by round,
 *       and prints each build's req/s ratio to bare Express and to the first build (medians of
 *       per-round ratios), its server CPU per request and its p99. `dist` names the current
 *       dist/ (`npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioById } from './scenarios.mjs';
import { startLoader, startServer, stopServer, usage, validate } from './procs.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const variants = path.join(root, 'bench/results/variants');
const [command, ...rest] = process.argv.slice(2);
const positional = rest.filter((a) => !a.startsWith('--'));
const args = Object.fromEntries(
  rest
    .filter((a) => a.startsWith('--'))
    .map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? true];
    }),
);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function build(label) {
  const out = path.join(variants, label);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), `sso-guard-${label}-`));
  cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true });
  for (const patch of args.reverse ? String(args.reverse).split(',') : []) {
    execFileSync('patch', ['-R', '-p1', '-d', dir, '-i', path.resolve(patch)], { stdio: 'inherit' });
  }
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
    external: ['axios', 'debug', 'lru-cache', 'express', 'ioredis', 'redis'],
  });
  rmSync(dir, { recursive: true, force: true });
  console.log(`built ${path.relative(root, out)}/dist`);
}

async function run(labels) {
  const major = Number(args.major ?? 5);
  const rounds = Number(args.rounds ?? 5);
  const duration = Number(args.duration ?? 10);
  const distOf = (label) => (label === 'dist' ? path.join(root, 'dist') : path.join(variants, label, 'dist'));
  for (const l of labels)
    if (!existsSync(path.join(distOf(l), 'index.mjs')))
      throw new Error(`no build for "${l}": node bench/ab.mjs build ${l}`);
  const bare = scenarioById(`express${major}`);
  const floor = scenarioById(`floor${major}`);
  const guard = scenarioById(`sso${major}`);
  const loader = await startLoader();
  const results = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const r = {};
      for (const [key, scenario, env] of [
        ['bare', bare, {}],
        ['floor', floor, {}],
        ...labels.map((l) => [l, guard, { SSO_GUARD_DIST: distOf(l) }]),
      ]) {
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
          r[key] = { rps: m.rps, p99: m.latency.p99, cpu: (after.cpuMicros - before.cpuMicros) / m.total };
          console.log(
            `round ${round}/${rounds}  ${key.padEnd(16)} ${Math.round(m.rps).toString().padStart(6)} req/s  ${r[key].cpu.toFixed(0).padStart(4)} µs/req  p99 ${m.latency.p99.toFixed(2)} ms`,
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
  console.log(`\n| build | req/s median | vs bare Express ${major} | vs ${labels[0]} | server CPU µs/req | p99 ms |`);
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const key of ['bare', 'floor', ...labels]) {
    const xs = results.map((r) => r[key]);
    console.log(
      `| ${key === 'bare' ? `express ${major} (bare)` : key === 'floor' ? `floor (express ${major} + req.sso/req.user)` : key} | ${Math.round(median(xs.map((x) => x.rps)))} | ${median(results.map((r) => r[key].rps / r.bare.rps)).toFixed(2)}x | ${key === 'bare' || key === 'floor' ? '-' : `${median(results.map((r) => r[key].rps / r[labels[0]].rps)).toFixed(2)}x`} | ${median(xs.map((x) => x.cpu)).toFixed(0)} | ${median(xs.map((x) => x.p99)).toFixed(2)} |`,
    );
  }
}

if (command === 'build' && positional.length === 1) await build(positional[0]);
else if (command === 'run' && positional.length > 0) await run(positional);
else {
  console.error(
    'usage: node bench/ab.mjs build <label> [--reverse=a.patch,...] | node bench/ab.mjs run <label>... [--major=5 --rounds=5 --duration=10]',
  );
  process.exit(2);
}
