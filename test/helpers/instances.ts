import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';

let bundled: string | undefined;

/** Bundles instance-main.ts once per test file (child processes cannot use ts-jest). */
function bundle(): string {
  if (bundled === undefined) {
    // Inside the repository, so the bundle's `require('express')` finds node_modules.
    const root = path.join(__dirname, '../..');
    mkdirSync(path.join(root, 'test-output'), { recursive: true });
    const out = path.join(mkdtempSync(path.join(root, 'test-output', 'instance-')), 'instance.js');
    buildSync({
      entryPoints: [path.join(__dirname, 'instance-main.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external',
      outfile: out,
      logLevel: 'silent',
      absWorkingDir: path.join(__dirname, '../..'),
    });
    bundled = out;
  }
  return bundled;
}

/** An instance's `storeStats`, as it sends them over IPC. */
export interface InstanceStats {
  available: boolean;
  failures: number;
  fallbacks: number;
  queued: number;
}

export interface Instance {
  url: string;
  child: ChildProcess;
  stats(): Promise<InstanceStats>;
  /** `mw.revokeUser(userId)` in the instance; resolves once it resolved there. */
  revokeUser(userId: string): Promise<void>;
  kill(): void;
}

/** Starts one app instance as a separate process. */
export function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = fork(bundle(), [], {
    env: { ...process.env, ...env, DEBUG: process.env.INSTANCE_DEBUG ?? '' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    cwd: path.join(__dirname, '../..'),
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
    child.once('message', (msg: { port: number }) => {
      resolve({
        url: `http://127.0.0.1:${msg.port}`,
        child,
        stats: () =>
          new Promise((res) => {
            const onMsg = (m: { stats?: InstanceStats }) => {
              if (m.stats) {
                child.off('message', onMsg);
                res(m.stats);
              }
            };
            child.on('message', onMsg);
            child.send('stats');
          }),
        revokeUser: (userId) =>
          new Promise((res) => {
            const onMsg = (m: { revoked?: string }) => {
              if (m.revoked === userId) {
                child.off('message', onMsg);
                res();
              }
            };
            child.on('message', onMsg);
            child.send({ revokeUser: userId });
          }),
        kill: () => child.kill('SIGKILL'),
      });
    });
  });
}
