import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { parseCli, runCli } from '../../lib/emulator/cli';
import { listenSpiApp } from '../helpers/spi-app';
import { cliIo } from '../helpers/cli-io';

const io = cliIo;

describe('parseCli', () => {
  it('maps flags to emulator options', () => {
    const argv = [
      '--port',
      '4000',
      '--host',
      '127.0.0.1',
      '--client-id',
      'app',
      '--client-secret',
      's3cret',
      '--access-token-ttl',
      '90',
      '--auto-approve',
      '--error-style',
      'ret_code',
      '--no-refresh-tokens',
      '--no-rotate',
    ];
    expect(parseCli(argv, {})).toEqual({
      help: false,
      options: {
        port: 4000,
        host: '127.0.0.1',
        clientId: 'app',
        clientSecret: 's3cret',
        accessTokenTtl: 90,
        autoApprove: true,
        errorStyle: 'ret_code',
        refreshTokens: false,
        rotateRefreshTokens: false,
      },
    });
  });

  it('takes defaults from SSO_CLIENT_ID, SSO_CLIENT_SECRET and PORT; flags win', () => {
    expect(parseCli([], { SSO_CLIENT_ID: 'env-app', SSO_CLIENT_SECRET: 'env-secret', PORT: '4100' })).toEqual({
      help: false,
      options: { port: 4100, clientId: 'env-app', clientSecret: 'env-secret' },
    });
    expect(parseCli(['--port', '4200', '--client-id', 'flag-app'], { SSO_CLIENT_ID: 'env-app', PORT: '4100' })).toEqual(
      { help: false, options: { port: 4200, clientId: 'flag-app' } },
    );
  });

  it.each([
    [['--port', 'abc']],
    [['--port', '70000']],
    [['--error-style', 'json']],
    [['--access-token-ttl', '-1']],
    [['--bogus']],
    [['extra']],
  ])('refuses %j', (argv) => {
    expect(() => parseCli(argv, {})).toThrow();
  });
});

describe('runCli', () => {
  it('prints help and exits 0; a usage error exits 2', async () => {
    const help = io();
    expect(await runCli(['--help'], {}, help.io)).toEqual({ exitCode: 0 });
    expect(help.out.join('')).toContain('--no-rotate');
    const bad = io();
    expect(await runCli(['--port', 'x'], {}, bad.io)).toEqual({ exitCode: 2 });
    expect(bad.err.join('')).toContain('--port');
  });

  it('prints the URL and client id; the secret only when it is the demo default', async () => {
    const demo = io();
    const a = await runCli([], {}, demo.io);
    const custom = io();
    const b = await runCli(['--client-id', 'app', '--client-secret', 'top-secret'], {}, custom.io);
    try {
      if (!('emulator' in a) || !('emulator' in b)) throw new Error('not started');
      expect(demo.out[0]).toBe(
        `SSO emulator listening on ${a.emulator.url} (client_id=example-client, client_secret=example-secret)\n`,
      );
      expect(custom.out[0]).toBe(`SSO emulator listening on ${b.emulator.url} (client_id=app)\n`);
      expect(custom.out.join('')).not.toContain('top-secret');
    } finally {
      if ('emulator' in a) await a.emulator.close();
      if ('emulator' in b) await b.emulator.close();
    }
  });
});

describe('bin', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-emulator-bin-'));
    buildSync({
      entryPoints: [path.join(__dirname, '../../lib/emulator/bin.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: path.join(dir, 'bin.js'),
      logLevel: 'silent',
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts with a shebang, serves, and exits cleanly on SIGTERM', async () => {
    const file = path.join(dir, 'bin.js');
    expect(fs.readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const child = spawn(process.execPath, [file, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: '', SSO_CLIENT_ID: '', SSO_CLIENT_SECRET: '' },
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+) \(client_id=example-client/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.on('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      const res = await fetch(`${url}/health`);
      expect(await res.text()).toBe('ok');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('spi: sends a signed call to an app and exits 0 on success, 1 otherwise', async () => {
    let created = 0;
    const app = await listenSpiApp('bin-secret-app-key', {
      CreateAppInstance: (p) => (created++, { success: true, instanceId: `ins-${p.orderId}` }),
    });
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(dir, 'bin.js'), 'spi', app.url, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, APPCENTER_SECRET_APP_KEY: 'bin-secret-app-key' },
        });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    try {
      const ok = await run(['CreateAppInstance', 'order_id=o-bin', 'user_id=usr-alice', '--form', 'get-encoded']);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out)).toMatchObject({
        success: true,
        body: { instanceId: 'ins-o-bin' },
        attempts: [{ status: 200 }],
      });
      expect(ok.out).not.toContain('bin-secret-app-key');
      const refused = await run(['TestConnection', '--secret-app-key', 'wrong', '--retry-delay', '0']);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.out).attempts).toHaveLength(3);
      expect(created).toBe(1);
    } finally {
      await app.close();
    }
  });
});
