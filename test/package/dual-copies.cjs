// Loads the CommonJS and the ESM build of the package side by side (two copies of every class,
// as when an app requires one and a dependency imports the other) and checks that each copy's
// isSsoGuardError() recognises the other copy's errors (exit code 1 otherwise).
// Usage: node test/package/dual-copies.cjs dist/index.js dist/index.mjs
const { pathToFileURL } = require('node:url');

(async () => {
  const { resolve } = require('node:path');
  const cjs = require(resolve(process.argv[2]));
  const esm = await import(pathToFileURL(resolve(process.argv[3])).href);
  if (cjs.SsoGuardError === esm.SsoGuardError) throw new Error('expected two copies');
  const results = {};
  for (const [from, to] of [
    [cjs, esm],
    [esm, cjs],
  ]) {
    const key = from === cjs ? 'cjs->esm' : 'esm->cjs';
    results[key] = {
      ssoGuardError: to.isSsoGuardError(new from.SsoGuardError('upstream_timeout', 'slow')),
      cloudApiError: to.isSsoGuardError(
        new from.CloudApiError('DescribeInstances failed: ret_code 1400', { retCode: 1400 }),
      ),
      plainError: to.isSsoGuardError(Object.assign(new Error('x'), { code: 'upstream_timeout' })),
      lookalike: to.isSsoGuardError({ name: 'SsoGuardError', code: 'invalid_option', message: 'x' }),
    };
  }
  process.stdout.write(JSON.stringify(results));
  const expected = JSON.stringify({ ssoGuardError: true, cloudApiError: true, plainError: false, lookalike: false });
  if (Object.values(results).some((r) => JSON.stringify(r) !== expected)) process.exitCode = 1;
})().catch((err) => {
  process.stderr.write(String(err && err.stack));
  process.exit(1);
});
