import { createClient, createCluster, createSentinel } from 'redis';
import IORedis from 'ioredis';
import { redisStore } from '../../lib/store/redis';
import { SsoGuardError } from '../../lib/errors';
import { REDIS_URL, cleanPrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';
import { connectRedis } from '../helpers/redis-clients';
import { storeContractTests } from '../helpers/store-contract';

describeRedis.each(['node-redis', 'ioredis'])('redisStore with %s', (kind) => {
  storeContractTests(
    () => connectRedis({ REDIS_CLIENT: kind, REDIS_URL }),
    (prefix) => cleanPrefix(prefix),
  );
});

/** The error redisStore throws for `client`, or undefined. */
function refusal(client: unknown): SsoGuardError | undefined {
  try {
    redisStore({ client });
    return undefined;
  } catch (err) {
    return err as SsoGuardError;
  }
}

describe('redisStore options', () => {
  // Built, not connected: construction only looks at the client.
  const node = createClient({ url: REDIS_URL });
  const cluster = createCluster({ rootNodes: [{ url: REDIS_URL }] });
  const sentinel = createSentinel({ name: 'm', sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }] });
  const io = new IORedis({ lazyConnect: true });
  const ioCluster = new IORedis.Cluster([{ host: '127.0.0.1', port: 6379 }], { lazyConnect: true });
  const ioSentinel = new IORedis({ lazyConnect: true, sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'm' });
  afterAll(() => {
    io.disconnect();
    ioCluster.disconnect();
    ioSentinel.disconnect();
  });

  it('takes node-redis clients, clusters and sentinels, and ioredis clients, Sentinel clients and clusters', () => {
    for (const client of [node, cluster, sentinel, io, ioCluster, ioSentinel]) expect(refusal(client)).toBeUndefined();
  });

  it.each<[string, unknown, RegExp]>([
    ['a plain object', {}, /neither sendCommand\(\) nor call\(\)/],
    ['null', null, /received null/],
    ['a connection string', REDIS_URL, /received string/],
    ['a node-redis v3 style client', { send_command: () => true, duplicate: () => ({}) }, /neither sendCommand/],
    [
      'a node-redis-like object without subscribe() and connect()',
      { sendCommand: (args: string[]) => Promise.resolve(args), duplicate: () => ({}) },
      /looks like a node-redis client but lacks duplicate\(\), connect\(\), subscribe\(\) or on\(\)/,
    ],
    [
      'a cluster whose sendCommand takes (args) instead of (firstKey, isReadonly, args)',
      new Proxy(cluster, {
        get: (t, p) =>
          p === 'sendCommand' ? (args: string[]) => t.sendCommand(undefined, false, args) : Reflect.get(t, p),
      }),
      /looks like a node-redis cluster, but its sendCommand\(\) takes 1 parameters/,
    ],
    [
      'a sentinel whose sendCommand takes (args)',
      new Proxy(sentinel, {
        get: (t, p) => (p === 'sendCommand' ? (args: string[]) => t.sendCommand(false, args) : Reflect.get(t, p)),
      }),
      /looks like a node-redis sentinel, but its sendCommand\(\) takes 1 parameters/,
    ],
    [
      'a client whose sendCommand takes (firstKey, isReadonly, args) with no cluster to route it',
      new Proxy(node, {
        get: (t, p) =>
          p === 'sendCommand' ? (_key: string, _ro: boolean, args: string[]) => t.sendCommand(args) : Reflect.get(t, p),
      }),
      /looks like a node-redis client, but its sendCommand\(\) takes 3 parameters/,
    ],
    ['an ioredis-like object without subscribe()', { call: () => null, duplicate: () => ({}) }, /ioredis/],
  ])('refuses %s at construction: invalid_option naming redisStore.client', (_what, client, message) => {
    const err = refusal(client);
    expect(err).toBeInstanceOf(SsoGuardError);
    expect(err).toMatchObject({ code: 'invalid_option' });
    expect(err!.message).toMatch(/^"redisStore.client" /);
    expect(err!.message).toMatch(message);
  });

  it('refuses bad options, naming them', () => {
    expect(() => redisStore({ client: node, timeout: -1 })).toThrow(/"redisStore.timeout"/);
    expect(() => redisStore({ client: node, localTtl: 0 })).toThrow(/"redisStore.localTtl"/);
    expect(() => redisStore({ client: node, prefx: 'x' } as never)).toThrow(/Unknown option "redisStore.prefx"/);
  });

  it('describes a bad value, never echoes a secret it may hold (a Redis URL with a password put in the wrong option)', () => {
    const fake = { sendCommand: async () => null, duplicate: () => fake };
    const messageOf = (options: object): string => {
      try {
        redisStore({ client: fake, ...options } as never);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected a throw');
    };
    for (const option of ['timeout', 'localTtl', 'prefix']) {
      const message = messageOf({
        [option]: option === 'prefix' ? { url: 'redis://:hunter2@h' } : 'redis://:hunter2@h',
      });
      expect(message).toMatch(new RegExp(`^"redisStore.${option}" must be`));
      expect(message).not.toContain('hunter2');
    }
    expect(messageOf({ timeout: 'redis://:hunter2@h' })).toBe(
      '"redisStore.timeout" must be a positive number of milliseconds; received a URL (redis://h) with credentials (not shown)',
    );
    expect(messageOf({ localTtl: -3 })).toBe('"redisStore.localTtl" must be a positive number of seconds; received -3');
  });
});
