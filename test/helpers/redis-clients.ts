/**
 * The Redis clients the suites run redisStore with, built from environment-style variables so a
 * test and an instance process (test/helpers/instance-main.ts) connect the same way.
 */
import { createClient, createCluster, createSentinel } from 'redis';
import IORedis from 'ioredis';
import { parseEndpoints } from './redis-topologies';

export type ClientKind =
  'node-redis' | 'ioredis' | 'node-redis-cluster' | 'ioredis-cluster' | 'node-redis-sentinel' | 'ioredis-sentinel';

/** What to connect to: REDIS_URL (standalone), REDIS_CLUSTER_NODES, or REDIS_SENTINELS + REDIS_SENTINEL_NAME. */
export interface ClientEnv {
  REDIS_CLIENT?: string;
  REDIS_URL?: string;
  REDIS_CLUSTER_NODES?: string;
  REDIS_SENTINELS?: string;
  REDIS_SENTINEL_NAME?: string;
}

export interface Connected {
  client: unknown;
  close(): Promise<void>;
}

/** A connected client of `env.REDIS_CLIENT` (default node-redis), as an app would configure it. */
export async function connectRedis(env: ClientEnv): Promise<Connected> {
  const kind = (env.REDIS_CLIENT ?? 'node-redis') as ClientKind;
  switch (kind) {
    case 'node-redis': {
      const client = createClient({
        url: env.REDIS_URL,
        disableOfflineQueue: true,
        socket: { reconnectStrategy: () => 100 },
      });
      client.on('error', () => undefined);
      await client.connect();
      return { client, close: async () => client.destroy() };
    }
    case 'ioredis': {
      const client = new IORedis(env.REDIS_URL!, { retryStrategy: () => 100, maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      return { client, close: async () => client.disconnect() };
    }
    case 'node-redis-cluster': {
      const client = createCluster({
        rootNodes: parseEndpoints(env.REDIS_CLUSTER_NODES!).map((e) => ({ socket: e })),
        defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: () => 100 } },
      });
      client.on('error', () => undefined);
      await client.connect();
      return { client, close: async () => client.destroy() };
    }
    case 'ioredis-cluster': {
      const client = new IORedis.Cluster(parseEndpoints(env.REDIS_CLUSTER_NODES!), {
        clusterRetryStrategy: () => 100,
        redisOptions: { maxRetriesPerRequest: 1 },
      });
      client.on('error', () => undefined);
      return { client, close: async () => client.disconnect() };
    }
    case 'node-redis-sentinel': {
      const client = createSentinel({
        name: env.REDIS_SENTINEL_NAME!,
        sentinelRootNodes: parseEndpoints(env.REDIS_SENTINELS!),
      });
      client.on('error', () => undefined);
      await client.connect();
      return { client, close: async () => client.destroy() };
    }
    case 'ioredis-sentinel': {
      const client = new IORedis({
        sentinels: parseEndpoints(env.REDIS_SENTINELS!),
        name: env.REDIS_SENTINEL_NAME!,
        retryStrategy: () => 100,
        maxRetriesPerRequest: 1,
      });
      client.on('error', () => undefined);
      return { client, close: async () => client.disconnect() };
    }
    default:
      throw new Error(`unknown REDIS_CLIENT ${String(kind)}`);
  }
}
