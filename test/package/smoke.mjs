// Installs the packed tarball into throwaway CommonJS, ESM and TypeScript projects and uses it
// there the way users will: require/import both entry points, start the emulator, sign in once,
// and type-check `req.sso` through the published declarations.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'sso-guard-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  const tarball = path.join(work, run('npm', ['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop());
  const app = path.join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'sample', private: true, type: 'commonjs' }));
  run('npm', ['install', '--silent', '--prefer-offline', '--no-audit', '--no-fund', tarball, 'express@5', '@types/express@5', '@types/node@20'], app);

  const program = (load) => `
${load}
(async () => {
  if (typeof auth !== 'function' || typeof requiresAuth !== 'function' || typeof redisStore !== 'function') throw new Error('exports missing');
  const sso = await startEmulator({ clientId: 'c', clientSecret: 's', autoApprove: true });
  const app = express();
  app.use(auth({ ssoBaseUrl: sso.url, appBaseUrl: 'http://localhost', clientId: 'c', clientSecret: 's', secret: 'x'.repeat(32) }));
  app.get('/me', (req, res) => res.json(req.sso.user));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = 'http://127.0.0.1:' + server.address().port;
  const unauth = await fetch(base + '/me');
  if (unauth.status !== 401) throw new Error('expected 401, got ' + unauth.status);
  try { auth({ secret: 'short' }); throw new Error('no throw'); } catch (e) { if (!(e instanceof SsoGuardError) || e.code !== 'invalid_option') throw e; }
  server.close(); await sso.close();
  console.log('ok');
})().catch((e) => { console.error(e); process.exit(1); });
`;
  writeFileSync(path.join(app, 'cjs.js'), program(`const express = require('express'); const { auth, requiresAuth, redisStore, SsoGuardError } = require('express-sso-guard'); const { startEmulator } = require('express-sso-guard/testing');`));
  writeFileSync(path.join(app, 'esm.mjs'), program(`import express from 'express'; import { auth, requiresAuth, redisStore, SsoGuardError } from 'express-sso-guard'; import { startEmulator } from 'express-sso-guard/testing';`));
  for (const f of ['cjs.js', 'esm.mjs']) {
    if (run('node', [f], app).trim() !== 'ok') throw new Error(`${f} failed`);
    console.log(`package: ${f} ok`);
  }

  writeFileSync(
    path.join(app, 'index.ts'),
    `import express from 'express';
import { auth, requiresAuth, SsoGuardError, type SsoGuardOptions, type SsoCredentials } from 'express-sso-guard';
import { startEmulator, type Emulator } from 'express-sso-guard/testing';
const options: SsoGuardOptions = { authRequired: false, session: { rollingDuration: 3600 } };
const app = express();
app.use(auth(options));
app.get('/p', requiresAuth(), async (req, res) => {
  const id: string | undefined = req.sso.user?.user_id;
  const creds: SsoCredentials | undefined = req.sso.credentials;
  const out = await req.sso.cloud.call<{ instance_set: unknown[] }>('DescribeInstances', { zone: 'pek3' });
  res.json({ id, ak: creds?.accessKey, n: out.instance_set.length, same: req.user?.user_id === id });
});
const e: SsoGuardError = new SsoGuardError('unauthenticated', 'x');
const n: number = e.status;
// @ts-expect-error an unknown option is a type error
auth({ authRequried: true });
let emu: Emulator | undefined;
void startEmulator().then((x) => (emu = x));
void n; void emu;
`,
  );
  for (const [module, resolution] of [['node16', 'node16'], ['commonjs', 'node10'], ['esnext', 'bundler']]) {
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module, moduleResolution: resolution, esModuleInterop: true, skipLibCheck: false, types: ['node'] }, files: ['index.ts'] }));
    if (resolution === 'node10') continue; // exports maps need node16/bundler resolution; node10 is not supported
    run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
    console.log(`package: TypeScript (${resolution}) ok`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
