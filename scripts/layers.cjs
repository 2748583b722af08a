'use strict';
// The layers of lib/, lowest first: the one table eslint.config.mjs builds its import rule from,
// and that `node scripts/layers.cjs` (and test/layers.test.ts) checks the import graph against.
// A module may import its own layer and the layers below it, never one above; nothing imports in
// a cycle. Modules are folders (`store/`) or files at the root of lib/ (`config.ts`).
const fs = require('node:fs');
const path = require('node:path');

const LAYERS = [
  {
    name: 'util',
    modules: ['util/', 'errors.ts', 'option-rules.ts'],
    what: 'crypto, HTTP transport, errors, option rules',
  },
  { name: 'i18n', modules: ['i18n/'], what: 'page texts in English and Simplified Chinese' },
  { name: 'store', modules: ['store/'], what: 'memory and Redis behind one interface' },
  { name: 'telemetry', modules: ['telemetry/'], what: 'metrics, spans, events, logger' },
  { name: 'parts', modules: ['session/', 'sso/', 'cloud/'], what: 'cookies, SSO calls and cache, cloud API' },
  { name: 'config', modules: ['config.ts', 'options.ts'], what: 'options validated once' },
  { name: 'appcenter', modules: ['appcenter/'], what: 'AppCenter SPI: signature, params, idempotency' },
  { name: 'auth', modules: ['auth/'], what: 'the per-request decision, framework-agnostic' },
  { name: 'wiring', modules: ['instance.ts'], what: 'createCore: builds and wires the parts' },
  { name: 'express', modules: ['express/'], what: 'the only files that touch req/res' },
  {
    name: 'entry',
    modules: ['index.ts', 'testing/', 'emulator/', 'nest/'],
    what: 'the public entry points, the emulator',
  },
];

/** The layers that may import the `express` package (options.ts may name its types). */
const EXPRESS_LAYERS = ['express', 'entry'];

/** The module (`store/` or `config.ts`) a path relative to lib/ belongs to. */
function moduleOf(rel) {
  const slash = rel.indexOf('/');
  return slash === -1 ? rel : rel.slice(0, slash + 1);
}

/** Index of a module's layer in {@link LAYERS}; -1 when the table does not know it. */
function layerIndex(module) {
  return LAYERS.findIndex((l) => l.modules.includes(module));
}

/** Every .ts file under `dir`, relative to it, with forward slashes. */
function sources(dir, sub = '') {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
    const rel = sub === '' ? entry.name : `${sub}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sources(dir, rel));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out.sort();
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The import specifiers of a source text (import, export ... from, import()); comments are dropped first. */
function specifiers(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...code.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
}

/** The import graph of lib/: file -> files it imports (relative imports only, resolved to files). */
function importGraph(libDir) {
  const files = sources(libDir);
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const targets = new Set();
    for (const spec of specifiers(fs.readFileSync(path.join(libDir, file), 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const target = [`${base}.ts`, `${base}/index.ts`, base].find((f) => known.has(f));
      if (target === undefined) throw new Error(`${file}: cannot resolve "${spec}"`);
      targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Imports that run up the layer order (or from or to a module the table does not know). */
function upwardImports(graph) {
  const out = [];
  for (const [file, targets] of graph) {
    const from = layerIndex(moduleOf(file));
    for (const target of targets) {
      const to = layerIndex(moduleOf(target));
      if (from === -1 || to === -1 || to > from) out.push(`${file} -> ${target}`);
    }
  }
  return out;
}

/** The import cycles of the graph, each as `a -> b -> a` (one per strongly connected group). */
function cycles(graph) {
  const out = [];
  const state = new Map(); // file -> 'open' | 'done'
  const stack = [];
  const visit = (file) => {
    state.set(file, 'open');
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') out.push([...stack.slice(stack.indexOf(target)), target].join(' -> '));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return out;
}

/** The picture of the layers, top first, with how many imports each layer makes into each lower one. */
function picture(graph) {
  const counts = LAYERS.map(() => LAYERS.map(() => 0));
  for (const [file, targets] of graph)
    for (const target of targets) {
      const from = layerIndex(moduleOf(file));
      const to = layerIndex(moduleOf(target));
      if (from !== -1 && to !== -1 && from !== to) counts[from][to]++;
    }
  const width = Math.max(...LAYERS.map((l) => l.modules.join(' ').length));
  const lines = [];
  for (let i = LAYERS.length - 1; i >= 0; i--) {
    const below = counts[i]
      .map((n, j) => (n > 0 ? `${LAYERS[j].name} ${n}` : ''))
      .filter(Boolean)
      .join(', ');
    lines.push(
      `${LAYERS[i].modules.join(' ').padEnd(width)}  ${LAYERS[i].what}${below ? `  (imports: ${below})` : ''}`,
    );
    if (i > 0) lines.push(`${' '.repeat(Math.floor(width / 2))}|`);
  }
  return lines.join('\n');
}

module.exports = { LAYERS, EXPRESS_LAYERS, moduleOf, layerIndex, importGraph, upwardImports, cycles, picture };

if (require.main === module) {
  const graph = importGraph(path.join(__dirname, '..', 'lib'));
  console.log(picture(graph));
  const problems = [
    ...upwardImports(graph).map((p) => `import up the layers: ${p}`),
    ...cycles(graph).map((c) => `import cycle: ${c}`),
  ];
  for (const p of problems) console.error(p);
  console.log(problems.length === 0 ? '\nno cycle, no import up the layers' : `\n${problems.length} problem(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
