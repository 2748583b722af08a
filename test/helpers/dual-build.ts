import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const root = join(__dirname, '../..');

/**
 * The CJS and ESM builds of lib/index.ts (esbuild, as tsup builds them), in a fresh directory under
 * test-output/ (ignored; inside the project so that the builds resolve its node_modules).
 */
export function buildDualCopies(prefix: string): { cjs: string; esm: string; remove(): void } {
  mkdirSync(join(root, 'test-output'), { recursive: true });
  const dir = mkdtempSync(join(root, 'test-output', `${prefix}-`));
  const common = {
    entryPoints: [join(root, 'lib/index.ts')],
    bundle: true,
    platform: 'node' as const,
    target: 'node20',
    packages: 'external' as const,
    logLevel: 'silent' as const,
  };
  const cjs = join(dir, 'index.js');
  const esm = join(dir, 'index.mjs');
  buildSync({ ...common, format: 'cjs', outfile: cjs });
  buildSync({ ...common, format: 'esm', outfile: esm });
  return { cjs, esm, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
