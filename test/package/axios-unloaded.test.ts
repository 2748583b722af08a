import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildDualCopies } from '../helpers/dual-build';

/**
 * axios is loaded only for an app's own axios instance: the default client is Node's http. A
 * loaded but unused axios makes every request of the app slower (a bigger heap to mark at each
 * GC). The CJS and ESM builds of lib/index.ts (esbuild, as tsup builds them, into test-output/ so
 * that they resolve the project's node_modules) are checked in child processes by the script that
 * `npm run test:package` runs on dist/.
 */
describe('axios is not loaded by default', () => {
  let copies: ReturnType<typeof buildDualCopies>;
  beforeAll(() => {
    copies = buildDualCopies('axios');
  });
  afterAll(() => copies.remove());

  it('neither the CJS nor the ESM build loads axios for auth() and a cloud call', () => {
    const out = execFileSync(process.execPath, [join(__dirname, 'axios-unloaded.cjs'), copies.cjs, copies.esm], {
      cwd: join(__dirname, '../..'),
      encoding: 'utf8',
      stdio: 'pipe',
    });
    expect(out).toBe('ok');
  });
});
