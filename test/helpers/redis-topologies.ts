/**
 * Real Redis topologies for the cluster and Sentinel suites: a 3-master Redis Cluster and a
 * Sentinel setup (one master, one replica, two sentinels). CI (`.ci/run`) starts them and passes
 * their addresses (REDIS_CLUSTER_NODES, REDIS_SENTINELS, REDIS_SENTINEL_NAME); without those, the
 * helper starts its own on free ports of 127.0.0.1 in a temporary directory and stops them at the
 * end. REQUIRE_REDIS_CLUSTER=1 (CI) turns a topology that is not given into a failure, not a skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { cleanPrefix, dumpPrefix, freePort, hasRedisServerBinary } from './redis';

export interface Endpoint {
  host: string;
  port: number;
}

/** A running topology: the addresses clients connect to, and how to stop what the helper started. */
export interface Topology {
  /** Cluster nodes (the masters), or the sentinels. */
  readonly endpoints: readonly Endpoint[];
  /** The Sentinel master name (Sentinel only). */
  readonly name?: string;
  /** Every master that holds data (to dump or clean a prefix). */
  masters(): Promise<Endpoint[]>;
  /** Sentinel only: promotes the replica (SENTINEL FAILOVER) and resolves once it is the master. */
  failover?(): Promise<void>;
  stop(): Promise<void>;
}

export function parseEndpoints(value: string): Endpoint[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const i = s.lastIndexOf(':');
      return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
    });
}

export const formatEndpoints = (list: readonly Endpoint[]): string => list.map((e) => `${e.host}:${e.port}`).join(',');

/**
 * Whether the topology suites can run: given by the environment, or startable here
 * (redis-server and redis-cli). Otherwise skipped with a printed reason, or a failure under
 * REQUIRE_REDIS_CLUSTER=1.
 */
export function topologiesAvailable(): boolean {
  const given = process.env.REDIS_CLUSTER_NODES !== undefined && process.env.REDIS_SENTINELS !== undefined;
  if (process.env.REQUIRE_REDIS_CLUSTER === '1') {
    if (!given)
      throw new Error('REQUIRE_REDIS_CLUSTER=1 needs REDIS_CLUSTER_NODES and REDIS_SENTINELS (started by .ci/run)');
    return true;
  }
  if (given) return true;
  const ok = hasRedisServerBinary() && spawnSync('redis-cli', ['--version']).status === 0;
  if (!ok) console.warn('SKIPPED: the Redis Cluster and Sentinel suites need redis-server and redis-cli');
  return ok;
}

async function command(at: Endpoint, args: string[]): Promise<unknown> {
  const c = createClient({ socket: { host: at.host, port: at.port, reconnectStrategy: false } });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await c.sendCommand(args);
  } finally {
    c.destroy();
  }
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Processes started here, killed at the end (and if the test process exits first). */
class Processes {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'sso-guard-redis-'));
  private readonly children: ChildProcess[] = [];
  private readonly onExit = () => this.killAll();

  constructor() {
    process.once('exit', this.onExit);
  }

  async redis(port: number, extra: string[], configFile?: string): Promise<Endpoint> {
    const args = [
      ...(configFile === undefined ? [] : [configFile]),
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      ...extra,
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.children.push(child);
    const at = { host: '127.0.0.1', port };
    await until(`redis-server on ${port}`, async () => (await command(at, ['PING'])) === 'PONG');
    return at;
  }

  killAll(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    this.children.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    const exited = this.children.map((c) =>
      c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve(),
    );
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(exited);
    this.children.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }
}

const clusterMasters = async (nodes: readonly Endpoint[]): Promise<Endpoint[]> => {
  const text = String(await command(nodes[0]!, ['CLUSTER', 'NODES']));
  return text
    .split('\n')
    .filter((l) => l.includes('master') && !l.includes('fail'))
    .map((l) => parseEndpoints(l.split(' ')[1]!.split('@')[0]!)[0]!);
};

/** The 3-master cluster of REDIS_CLUSTER_NODES, or one started here. */
export async function redisCluster(): Promise<Topology> {
  const given = process.env.REDIS_CLUSTER_NODES;
  if (given !== undefined) {
    const endpoints = parseEndpoints(given);
    return { endpoints, masters: () => clusterMasters(endpoints), stop: async () => undefined };
  }
  const procs = new Processes();
  try {
    const endpoints: Endpoint[] = [];
    for (let i = 0; i < 3; i++) {
      // The bus port is given explicitly: port + 10000 may not exist above 55535.
      const [port, bus] = [await freePort(), await freePort()];
      const conf = `nodes-${port}.conf`;
      endpoints.push(
        await procs.redis(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(bus),
          '--cluster-config-file',
          conf,
          '--cluster-node-timeout',
          '5000',
        ]),
      );
    }
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...endpoints.map((e) => `${e.host}:${e.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (const e of endpoints)
      await until('cluster_state:ok', async () =>
        String(await command(e, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'),
      );
    return { endpoints, masters: () => clusterMasters(endpoints), stop: () => procs.stop() };
  } catch (err) {
    await procs.stop();
    throw err;
  }
}

const sentinelMaster = async (sentinels: readonly Endpoint[], name: string): Promise<Endpoint> => {
  const [host, port] = (await command(sentinels[0]!, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name])) as [
    string,
    string,
  ];
  return { host, port: Number(port) };
};

async function sentinelFailover(sentinels: readonly Endpoint[], name: string): Promise<void> {
  const before = await sentinelMaster(sentinels, name);
  const promoted = async (): Promise<boolean> => {
    for (const s of sentinels) {
      const m = await sentinelMaster([s], name);
      if (m.port === before.port) return false;
      if (!String(await command(m, ['INFO', 'replication'])).includes('role:master')) return false;
    }
    return true;
  };
  // A failover the sentinel accepted can still abort (seen in CI on the second failover of one
  // master in a run: no promotion within 45 s). Asked again while the first sentinel still names
  // the old master (never once it names the new one: that would fail back), for up to 80 s.
  const deadline = Date.now() + 80_000;
  for (;;) {
    if ((await sentinelMaster(sentinels, name)).port === before.port) {
      // Refused (NOGOODSLAVE, INPROG) until the sentinel knows an up-to-date replica: retried.
      await until(
        'SENTINEL FAILOVER accepted',
        async () =>
          (await command(sentinels[0]!, ['SENTINEL', 'FAILOVER', name]).catch(() => undefined)) === 'OK' ||
          (await sentinelMaster(sentinels, name)).port !== before.port,
      );
    }
    try {
      await until('the replica promoted, as every sentinel sees it', promoted, 25_000);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

/** The Sentinel setup of REDIS_SENTINELS / REDIS_SENTINEL_NAME, or one started here. */
export async function redisSentinel(): Promise<Topology> {
  const given = process.env.REDIS_SENTINELS;
  if (given !== undefined) {
    const endpoints = parseEndpoints(given);
    const name = process.env.REDIS_SENTINEL_NAME ?? 'sso-guard';
    return {
      endpoints,
      name,
      masters: async () => [await sentinelMaster(endpoints, name)],
      failover: () => sentinelFailover(endpoints, name),
      stop: async () => undefined,
    };
  }
  const name = 'sso-guard';
  const procs = new Processes();
  try {
    const master = await procs.redis(await freePort(), [
      '--repl-diskless-sync',
      'yes',
      '--repl-diskless-sync-delay',
      '0',
    ]);
    const replica = await procs.redis(await freePort(), ['--replicaof', master.host, String(master.port)]);
    await until('the replica in sync', async () =>
      String(await command(replica, ['INFO', 'replication'])).includes('master_link_status:up'),
    );
    const endpoints: Endpoint[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      // A sentinel rewrites its configuration file: one per sentinel, in the temporary directory.
      const conf = path.join(procs.dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `sentinel monitor ${name} ${master.host} ${master.port} 1`,
          `sentinel down-after-milliseconds ${name} 2000`,
          `sentinel failover-timeout ${name} 10000`,
          '',
        ].join('\n'),
      );
      endpoints.push(await procs.redis(port, ['--sentinel'], conf));
    }
    for (const s of endpoints)
      await until('the sentinels to know the master', async () => {
        const m = await sentinelMaster([s], name);
        return m.port === master.port;
      });
    return {
      endpoints,
      name,
      masters: async () => [await sentinelMaster(endpoints, name)],
      failover: () => sentinelFailover(endpoints, name),
      stop: () => procs.stop(),
    };
  } catch (err) {
    await procs.stop();
    throw err;
  }
}

/** The client settings of `client` on a topology (see test/helpers/redis-clients.ts). */
export function topologyEnv(t: Topology, client: string): Record<string, string> {
  return t.name === undefined
    ? { REDIS_CLIENT: client, REDIS_CLUSTER_NODES: formatEndpoints(t.endpoints) }
    : { REDIS_CLIENT: client, REDIS_SENTINELS: formatEndpoints(t.endpoints), REDIS_SENTINEL_NAME: t.name };
}

/** Every key and raw value under a prefix, over all masters. */
export async function dumpTopology(t: Topology, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of await t.masters())
    for (const [k, v] of await dumpPrefix(`redis://${m.host}:${m.port}`, prefix)) out.set(k, v);
  return out;
}

/** Deletes every key under a prefix, on all masters. */
export async function cleanTopology(t: Topology, prefix: string): Promise<void> {
  for (const m of await t.masters()) await cleanPrefix(prefix, `redis://${m.host}:${m.port}`);
}
