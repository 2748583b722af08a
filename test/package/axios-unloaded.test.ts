import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * axios is loaded only for an app's own axios instance: the default client is Node's http. A
 * loaded but unused axios makes every request of the app slower (a bigger heap to mark at each
 * GC). The CJS and ESM builds of lib/index.ts (esbuild, as tsup builds them, into test-output/ so
 * that they resolve the project's node_modules) are checked in child processes by the script that
 * `npm run test:package` runs on dist/.
 */
describe('axios is not loaded by default', () => {
  let dir: string;
  beforeAll(() => {
    mkdirSync(join(__dirname, '../../test-output'), { recursive: true });
    dir = mkdtempSync(join(__dirname, '../../test-output/axios-'));
    const common = {
      entryPoints: [join(__dirname, '../../lib/index.ts')],
      bundle: true,
      platform: 'node' as const,
      target: 'node20',
      packages: 'external' as const,
      logLevel: 'silent' as const,
    };
    buildSync({ ...common, format: 'cjs', outfile: join(dir, 'index.js') });
    buildSync({ ...common, format: 'esm', outfile: join(dir, 'index.mjs') });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('neither the CJS nor the ESM build loads axios for auth() and a cloud call', () => {
    const out = execFileSync(
      process.execPath,
      [join(__dirname, 'axios-unloaded.cjs'), join(dir, 'index.js'), join(dir, 'index.mjs')],
      { cwd: join(__dirname, '../..'), encoding: 'utf8', stdio: 'pipe' },
    );
    expect(out).toBe('ok');
  });
});
