import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';

/** The Redis the suites use: REDIS_URL, or the machine's own on 127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run uses. */
export function uniquePrefix(): string {
  return `sso-guard-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * Whether the suite can run. Without Redis it is skipped with a printed reason, unless
 * REQUIRE_REDIS=1 (CI), where a missing Redis fails the run.
 */
export async function redisAvailable(needBinary = false): Promise<boolean> {
  const url = new URL(REDIS_URL);
  const ok = (await ping(url.hostname, Number(url.port || 6379))) && (!needBinary || hasRedisServerBinary());
  if (!ok) {
    const why = `Redis suites need a Redis server at ${REDIS_URL}${needBinary ? ' and the redis-server binary' : ''}`;
    if (process.env.REQUIRE_REDIS === '1') throw new Error(`${why} (REQUIRE_REDIS=1)`);
    console.warn(`SKIPPED: ${why}`);
  }
  return ok;
}

export function hasRedisServerBinary(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** Deletes every key under a prefix (on the machine's Redis, or the one at `url`). */
export async function cleanPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const c = createClient({ url });
  c.on('error', () => undefined);
  await c.connect();
  for await (const keys of c.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    // One key at a time: on a cluster node, the keys of one batch may be in several slots.
    for (const key of (Array.isArray(keys) ? keys : [keys]) as string[]) await c.del(key);
  }
  await c.quit();
}

/** Every key and raw value under a prefix, as stored. */
export async function dumpPrefix(url: string, prefix: string): Promise<Map<string, string>> {
  const c = createClient({ url });
  c.on('error', () => undefined);
  await c.connect();
  const out = new Map<string, string>();
  for await (const keys of c.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    for (const key of (Array.isArray(keys) ? keys : [keys]) as string[]) out.set(key, String(await c.get(key)));
  }
  await c.quit();
  return out;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A private redis-server (for tests that stop it), on `port`. */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 50; i++) {
    if (await ping('127.0.0.1', port)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}
