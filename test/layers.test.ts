import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** scripts/layers.cjs: the one table of lib/'s layers, and the import-graph checks. */
interface LayersModule {
  LAYERS: ReadonlyArray<{ name: string; modules: readonly string[] }>;
  EXPRESS_LAYERS: readonly string[];
  importGraph(libDir: string): Map<string, string[]>;
  upwardImports(graph: Map<string, string[]>): string[];
  cycles(graph: Map<string, string[]>): string[];
  picture(graph: Map<string, string[]>): string;
}
const { LAYERS, EXPRESS_LAYERS, importGraph, upwardImports, cycles, picture } =
  require('../scripts/layers.cjs') as LayersModule;

const ROOT = path.join(__dirname, '..');
const LIB = path.join(ROOT, 'lib');

/** A file to lint: on disk (`file`), or `text` linted as if it were `filePath`. */
type LintJob = { file: string } | { text: string; filePath: string };

/**
 * The rule ids of the errors eslint's Node API (`new ESLint()`, the project's eslint.config.mjs)
 * reports for each job. In a child process: eslint loads its config with a dynamic import, which
 * jest's module sandbox does not run.
 */
function lintErrors(jobs: LintJob[]): string[][] {
  const program = `
    const { ESLint } = require('eslint');
    const jobs = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const eslint = new ESLint({ cwd: process.cwd() });
    Promise.all(jobs.map(async (job) => {
      const [result] = 'file' in job ? await eslint.lintFiles([job.file]) : await eslint.lintText(job.text, { filePath: job.filePath });
      return result.messages.filter((m) => m.severity === 2).map((m) => m.ruleId ?? m.message);
    })).then((out) => process.stdout.write(JSON.stringify(out)));`;
  const run = spawnSync(process.execPath, ['-e', program], {
    cwd: ROOT,
    input: JSON.stringify(jobs),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`eslint failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[][];
}

/** A real file of a module, to name in a probe's import. */
function someFileOf(module: string): string {
  if (!module.endsWith('/')) return module.replace(/\.ts$/, '');
  const first = fs.readdirSync(path.join(LIB, module)).find((f) => f.endsWith('.ts'))!;
  return `${module}${first.replace(/\.ts$/, '')}`;
}

/** Every forbidden pair: a module of a layer importing a module of a layer above it (or express). */
function forbiddenPairs(): Array<{ from: string; spec: string; label: string }> {
  const pairs: Array<{ from: string; spec: string; label: string }> = [];
  LAYERS.forEach((layer, i) => {
    for (const from of layer.modules) {
      const up = from.endsWith('/') ? '../' : './';
      for (const above of LAYERS.slice(i + 1))
        for (const to of above.modules)
          pairs.push({ from, spec: up + someFileOf(to), label: `${layer.name} (${from}) -> ${above.name} (${to})` });
      if (!EXPRESS_LAYERS.includes(layer.name)) pairs.push({ from, spec: 'express', label: `${from} -> express` });
    }
  });
  return pairs;
}

describe('the layer rule of eslint.config.mjs', () => {
  jest.setTimeout(120_000);

  it('reports every import running up the layers, from a probe file in each module', () => {
    const pairs = forbiddenPairs();
    const written: string[] = [];
    try {
      const jobs = pairs.map(({ from, spec }, n): LintJob => {
        // A value import (options.ts may import express's types, not express).
        const text = `import * as probe${n} from '${spec}';\nexport { probe${n} };\n`;
        // A root module (config.ts, instance.ts, ...): its rules, linted as if it were that file.
        if (!from.endsWith('/')) return { text, filePath: path.join(LIB, from) };
        const file = path.join(LIB, from, `__layer_probe_${n}__.ts`);
        fs.writeFileSync(file, text);
        written.push(file);
        return { file };
      });
      const errors = lintErrors(jobs);
      const missed = pairs.filter((_, n) => !errors[n]!.some((rule) => rule.endsWith('no-restricted-imports')));
      expect(missed.map((p) => p.label)).toEqual([]);
      // Upward imports from every layer but the top one, and express from every layer below express/.
      expect(pairs.length).toBeGreaterThan(80);
    } finally {
      for (const file of written) fs.rmSync(file, { force: true });
    }
  });

  it('lets a module import its own layer and those below it', () => {
    const text =
      "import { tokenHash } from '../util/crypto';\nimport type { SsoStore } from '../store/types';\nimport type { CheckResult } from '../sso/types';\nexport type T = [typeof tokenHash, SsoStore, CheckResult];\n";
    expect(lintErrors([{ text, filePath: path.join(LIB, 'session', '__allowed__.ts') }])).toEqual([[]]);
  });
});

describe('the import graph of lib/', () => {
  const graph = importGraph(LIB);

  it('has no cycle and no import running up the layer order', () => {
    // The structure picture, top layer first (also printed by `node scripts/layers.cjs`).
    process.stdout.write(`\n${picture(graph)}\n\n`);
    expect(upwardImports(graph)).toEqual([]);
    expect(cycles(graph)).toEqual([]);
  });

  it('sees every file of lib/ and the imports between them', () => {
    expect(graph.get('instance.ts')).toEqual(expect.arrayContaining(['config.ts', 'auth/authenticate.ts']));
    // Multi-line imports count too.
    expect(graph.get('config.ts')).toContain('option-rules.ts');
    expect(graph.size).toBeGreaterThan(60);
  });

  it('finds a cycle and an upward import when there is one', () => {
    const bad = new Map([
      ['sso/a.ts', ['sso/b.ts']],
      ['sso/b.ts', ['sso/a.ts', 'auth/c.ts']],
      ['auth/c.ts', []],
    ]);
    expect(cycles(bad)).toEqual(['sso/a.ts -> sso/b.ts -> sso/a.ts']);
    expect(upwardImports(bad)).toEqual(['sso/b.ts -> auth/c.ts']);
  });
});
