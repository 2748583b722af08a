'use strict';
// Loads the CommonJS and the ESM build of the package, each in a child node process, creates an
// `auth()` instance with a cloud API and makes one cloud call through the default HTTP client,
// then checks that axios was never loaded (it is loaded only for an app's own axios instance):
// the CJS build through require.cache, the ESM build through a resolve hook that refuses axios.
// Each child also checks that its probe sees axios once axios is really loaded (a probe that
// cannot see it proves nothing). Prints "ok"; exits with code 1 otherwise.
// Usage: node test/package/axios-unloaded.cjs dist/index.js dist/index.mjs
const { execFileSync } = require('node:child_process');
const { resolve } = require('node:path');
const { pathToFileURL } = require('node:url');

const [cjsFile, esmFile] = process.argv.slice(2).map((f) => resolve(f));
const AXIOS = String.raw`/[\\/]node_modules[\\/]axios[\\/]/`;

// Uses the package (`auth`, `CloudClient` and `http` in scope) the way an app does by default.
const use = `
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ret_code":0,"answered":true}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const api = 'http://127.0.0.1:' + server.address().port;
  auth({
    ssoBaseUrl: 'https://sso.example.com', appBaseUrl: 'https://app.example.com', clientId: 'c',
    clientSecret: 's', secret: 'x'.repeat(32), cloud: { apiBaseUrl: api },
  });
  const getCredentials = async () => ({ accessKey: 'AK', secretKey: 'SK', token: 'T' });
  const out = await new CloudClient({ apiBaseUrl: api, getCredentials }).call('DescribeThings');
  if (out.answered !== true) throw new Error('unexpected cloud answer ' + JSON.stringify(out));
  server.close();
`;

const cjs = `
const http = require('node:http');
const { auth, CloudClient } = require(${JSON.stringify(cjsFile)});
const loaded = () => Object.keys(require.cache).filter((k) => ${AXIOS}.test(k));
(async () => {
  ${use}
  if (loaded().length > 0) throw new Error('CJS build loaded axios: ' + loaded()[0]);
  require(require.resolve('axios', { paths: [${JSON.stringify(cjsFile)}] }));
  if (loaded().length === 0) throw new Error('the require.cache probe does not see axios');
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

// Runs in the loader's thread: any resolution of axios fails the import that asked for it.
const hooks = `
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (${AXIOS}.test(r.url)) throw new Error('axios resolved: ' + r.url);
  return r;
}`;
const register = `import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
const esm = `
import http from 'node:http';
try {
  const { auth, CloudClient } = await import(${JSON.stringify(pathToFileURL(esmFile).href)});
  ${use}
} catch (e) {
  console.error('ESM build: ' + e.message);
  process.exit(1);
}
let seen = false;
await import('axios').catch((e) => { seen = /axios resolved/.test(e.message); });
if (!seen) { console.error('the resolve hook does not see axios'); process.exit(1); }
`;

function run(args) {
  try {
    execFileSync(process.execPath, args, { cwd: resolve(__dirname, '../..'), encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    process.stderr.write(err.stderr || String(err));
    process.exit(1);
  }
}

run(['-e', cjs]);
run(['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', esm]);
process.stdout.write('ok');
