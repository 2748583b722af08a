// Installs the packed tarball into throwaway projects, one on Express 4 (with @types/express 4) and
// one on Express 5 (with @types/express 5), and uses it there the way users will: require/import
// both entry points, start the emulator, sign a request in with sessionCookie(), run the packaged
// `express-sso-guard-emulator` bin, type-check `req.sso` and every js/ts block of the README
// through the published declarations, and run the README's "Testing your app" example with jest.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReadmeProject } from './readme-blocks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'sso-guard-pack-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const tsc = (project, cwd) =>
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', project], {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
const dev = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies;
const majors = (process.env.SMOKE_EXPRESS ?? '4,5').split(',').map(Number);

const program = (load) => `
${load}
(async () => {
  if (typeof auth !== 'function' || typeof requiresAuth !== 'function' || typeof redisStore !== 'function') throw new Error('exports missing');
  const secret = 'x'.repeat(32);
  const sso = await startEmulator({ clientId: 'c', clientSecret: 's', autoApprove: true });
  const app = express();
  app.use(auth({ ssoBaseUrl: sso.url, appBaseUrl: 'http://localhost', clientId: 'c', clientSecret: 's', secret }));
  app.get('/me', (req, res) => res.json({ id: req.sso.user.user_id, printed: JSON.stringify(req.sso) }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = 'http://127.0.0.1:' + server.address().port;
  const unauth = await fetch(base + '/me');
  if (unauth.status !== 401) throw new Error('expected 401, got ' + unauth.status);
  const tokens = sso.issueTokens('usr-bob');
  const me = await fetch(base + '/me', { headers: { cookie: sessionCookie(tokens, { secret }) } });
  const body = await me.json();
  if (me.status !== 200 || body.id !== 'usr-bob') throw new Error('sessionCookie() did not sign in: ' + me.status);
  if (body.printed.includes(tokens.access_token) || !body.printed.includes('usr-bob')) throw new Error('req.sso prints unsafely: ' + body.printed);
  try { auth({ secret: 'short' }); throw new Error('no throw'); } catch (e) { if (!(e instanceof SsoGuardError) || e.code !== 'invalid_option') throw e; }
  server.close(); await sso.close();
  console.log('ok');
})().catch((e) => { console.error(e); process.exit(1); });
`;

const typed = `import express from 'express';
import { auth, requiresAuth, SsoGuardError, type SsoGuardOptions, type SsoCredentials, type SsoContext } from 'express-sso-guard';
import { startEmulator, sessionCookie, type Emulator } from 'express-sso-guard/testing';
import { SsoAuthGuard, SsoAuth, type SsoAuthOptions, type SsoUser } from 'express-sso-guard/nest';
const routeOptions: SsoAuthOptions = { mode: '401', authorize: (u: SsoUser) => u.user_id !== '' };
void SsoAuth(routeOptions); void new SsoAuthGuard();
const options: SsoGuardOptions = { authRequired: false, session: { rollingDuration: 3600 } };
const app = express();
app.use(auth(options));
app.get('/p', requiresAuth(), async (req, res) => {
  const id: string = req.sso.user.user_id;
  const creds: SsoCredentials = req.sso.credentials;
  const out = await req.sso.cloud.call<{ instance_set: unknown[] }>('DescribeInstances', { zone: 'pek3' });
  res.json({ id, ak: creds.accessKey, n: out.instance_set.length, same: req.user?.user_id === id });
});
app.get('/optional', (req, res) => {
  if (req.sso.isAuthenticated()) {
    const none: undefined = req.sso.error;
    res.json({ name: req.sso.user.user_name, none });
  } else res.json({ error: req.sso.error?.code });
});
const ctx = (null as unknown) as SsoContext;
// @ts-expect-error internals are not part of the published type
void ctx.outcome;
// @ts-expect-error internals are not part of the published type
void ctx.req;
const e: SsoGuardError = new SsoGuardError('unauthenticated', 'x');
const n: number = e.status;
// @ts-expect-error an unknown option is a type error
auth({ authRequried: true });
let emu: Emulator | undefined;
void startEmulator().then((x) => {
  emu = x;
  const cookie: string = sessionCookie(x.issueTokens('usr-alice'), { secret: 'x'.repeat(32), name: 'sso_session' });
  void cookie;
});
void n; void emu;
`;

// A real Nest application on the sample's Nest major (10 with Express 4, 11 with Express 5): the
// guard global, a public route, 401 JSON and a signed-in call. Plain JS, so the decorators are applied
// with Reflect.decorate (what TypeScript's legacy decorators compile to).
const nestProgram = (load) => `
${load}
(async () => {
  const secret = 'x'.repeat(32);
  const sso = await startEmulator({ clientId: 'c', clientSecret: 's', autoApprove: true });
  class Routes {
    me(id) { return { id }; }
    health() { return { ok: true }; }
  }
  Reflect.decorate([Get('me'), (t, k) => SsoUser('user_id')(t, k, 0)], Routes.prototype, 'me', Object.getOwnPropertyDescriptor(Routes.prototype, 'me'));
  Reflect.decorate([Get('health'), Public()], Routes.prototype, 'health', Object.getOwnPropertyDescriptor(Routes.prototype, 'health'));
  Reflect.decorate([Controller()], Routes);
  class AppModule {}
  Reflect.decorate([Module({ controllers: [Routes], providers: [{ provide: APP_GUARD, useClass: SsoAuthGuard }] })], AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  app.use(auth({ ssoBaseUrl: sso.url, appBaseUrl: 'http://localhost', clientId: 'c', clientSecret: 's', secret, authRequired: false }));
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const health = await fetch(base + '/health');
  if (health.status !== 200) throw new Error('@Public() route: ' + health.status);
  const unauth = await fetch(base + '/me');
  const body = await unauth.json();
  if (unauth.status !== 401 || body.error !== 'unauthenticated') throw new Error('expected 401 JSON, got ' + unauth.status);
  const me = await fetch(base + '/me', { headers: { cookie: sessionCookie(sso.issueTokens('usr-bob'), { secret }) } });
  const who = await me.json();
  if (me.status !== 200 || who.id !== 'usr-bob') throw new Error('guard did not admit a session: ' + me.status);
  await app.close(); await sso.close();
  console.log('ok');
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** Runs the packaged bin with npx from the sample project: it listens, answers, and stops on SIGTERM. */
async function runBin(cwd) {
  // Its own process group: npx does not forward signals to the bin, so the group gets SIGTERM.
  const child = spawn('npx', ['--no-install', 'express-sso-guard-emulator', '--port', '0', '--auto-approve'], {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let out = '';
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bin: no "listening" line in 20 s: ${out}`)), 20_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`bin exited with ${code}: ${out}`)));
    });
    const res = await fetch(`${url}/sso/check_token/`, { method: 'POST' });
    if (res.status < 400 || res.status >= 500)
      throw new Error(`bin: check_token without a token answered ${res.status}`);
    await res.arrayBuffer();
  } finally {
    const closed = new Promise((r) => child.stdout.once('close', r));
    process.kill(-child.pid, 'SIGTERM');
    await closed;
  }
  if (!/stopping the SSO emulator/.test(out)) throw new Error(`bin did not stop cleanly: ${out}`);
}

try {
  const tarball = path.join(
    work,
    run('npm', ['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop(),
  );
  for (const major of majors) {
    const app = path.join(work, `express${major}`);
    mkdirSync(app);
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({ name: `sample-express${major}`, private: true, type: 'commonjs' }),
    );
    const deps = [
      tarball,
      `express@${major}`,
      `@types/express@${major}`,
      '@types/node@20',
      `supertest@${dev.supertest}`,
      `@types/supertest@${dev['@types/supertest']}`,
      `@types/jest@${dev['@types/jest']}`,
      `redis@${dev.redis}`,
      // The README's observability block (the optional OpenTelemetry peer and an SDK).
      `@opentelemetry/api@${dev['@opentelemetry/api']}`,
      `@opentelemetry/sdk-metrics@${dev['@opentelemetry/sdk-metrics']}`,
      `@opentelemetry/exporter-prometheus@${dev['@opentelemetry/exporter-prometheus']}`,
      // The README's NestJS recipe and the Nest samples: Nest 10 (on Express 4) next to Express 4, 11 next to 5.
      `@nestjs/common@${major === 4 ? 10 : 11}`,
      `@nestjs/core@${major === 4 ? 10 : 11}`,
      `@nestjs/platform-express@${major === 4 ? 10 : 11}`,
      `reflect-metadata@${dev['reflect-metadata']}`,
      `rxjs@${dev.rxjs}`,
    ];
    run('npm', ['install', '--silent', '--prefer-offline', '--no-audit', '--no-fund', ...deps], app);
    const label = `package (express ${major})`;

    writeFileSync(
      path.join(app, 'cjs.js'),
      program(
        `const express = require('express'); const { auth, requiresAuth, redisStore, SsoGuardError } = require('express-sso-guard'); const { startEmulator, sessionCookie } = require('express-sso-guard/testing');`,
      ),
    );
    writeFileSync(
      path.join(app, 'esm.mjs'),
      program(
        `import express from 'express'; import { auth, requiresAuth, redisStore, SsoGuardError } from 'express-sso-guard'; import { startEmulator, sessionCookie } from 'express-sso-guard/testing';`,
      ),
    );
    const nestCjs = `require('reflect-metadata'); const { auth } = require('express-sso-guard'); const { startEmulator, sessionCookie } = require('express-sso-guard/testing'); const { SsoAuthGuard, Public, SsoUser } = require('express-sso-guard/nest'); const { Controller, Get, Module } = require('@nestjs/common'); const { NestFactory, APP_GUARD } = require('@nestjs/core');`;
    const nestEsm = `import 'reflect-metadata'; import { auth } from 'express-sso-guard'; import { startEmulator, sessionCookie } from 'express-sso-guard/testing'; import { SsoAuthGuard, Public, SsoUser } from 'express-sso-guard/nest'; import { Controller, Get, Module } from '@nestjs/common'; import { NestFactory, APP_GUARD } from '@nestjs/core';`;
    writeFileSync(path.join(app, 'nest-cjs.js'), nestProgram(nestCjs));
    writeFileSync(path.join(app, 'nest-esm.mjs'), nestProgram(nestEsm));
    for (const f of ['cjs.js', 'esm.mjs', 'nest-cjs.js', 'nest-esm.mjs']) {
      if (run('node', [f], app).trim() !== 'ok') throw new Error(`${f} failed`);
      console.log(`${label}: ${f} ok${f.startsWith('nest') ? ` (NestJS ${major === 4 ? 10 : 11})` : ''}`);
    }

    await runBin(app);
    console.log(`${label}: npx express-sso-guard-emulator ok`);

    writeFileSync(path.join(app, 'index.ts'), typed);
    for (const [module, resolution] of [
      ['node16', 'node16'],
      ['esnext', 'bundler'],
    ]) {
      writeFileSync(
        path.join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            module,
            moduleResolution: resolution,
            esModuleInterop: true,
            skipLibCheck: false,
            types: ['node'],
          },
          files: ['index.ts'],
        }),
      );
      tsc('tsconfig.json', app);
      console.log(`${label}: TypeScript (${resolution}) ok`);
    }

    const readme = writeReadmeProject(root, app);
    tsc(readme.tsconfig, app);
    console.log(`${label}: ${readme.count} README code blocks type-check under strict`);
    const jestConfig = {
      rootDir: app,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/profile.test.js'],
      transform: {},
      cacheDirectory: path.join(work, `jest-cache-${major}`),
    };
    execFileSync(
      process.execPath,
      [path.join(root, 'node_modules/jest/bin/jest.js'), '--ci', '--config', JSON.stringify(jestConfig)],
      { cwd: app, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    console.log(`${label}: README "Testing your app" example passes with jest`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
