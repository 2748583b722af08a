import { createClient } from 'redis';
import IORedis from 'ioredis';
import { redisStore } from '../../lib/store/redis';
import type { SsoStore } from '../../lib/store/types';
import { REDIS_URL, cleanPrefix, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';

type Closable = { close(): Promise<void> };

const clients: Array<[string, () => Promise<{ client: unknown } & Closable>]> = [
  [
    'node-redis',
    async () => {
      const client = createClient({ url: REDIS_URL });
      client.on('error', () => undefined);
      await client.connect();
      return { client, close: async () => void (await client.quit()) };
    },
  ],
  [
    'ioredis',
    async () => {
      const client = new IORedis(REDIS_URL);
      return { client, close: async () => void client.disconnect() };
    },
  ],
];

describeRedis.each(clients)('redisStore with %s', (_name, connect) => {
  let store: SsoStore;
  let conn: { client: unknown } & Closable;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    conn = await connect();
    store = redisStore({ client: conn.client, prefix });
  });
  afterAll(async () => {
    await store.close?.();
    await cleanPrefix(prefix);
    await conn.close();
  });

  it('gets, sets with PX and deletes under the prefix', async () => {
    expect(await store.get('k')).toBeUndefined();
    expect(await store.set('k', 'v', 10_000)).toBe(true);
    expect(await store.get('k')).toBe('v');
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
    await store.set('short', 'v', 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.get('short')).toBeUndefined();
  });

  it('takes a lock with NX and releases it only for its owner', async () => {
    expect(await store.set('lock', 'owner-1', 10_000, true)).toBe(true);
    expect(await store.set('lock', 'owner-2', 10_000, true)).toBe(false);
    await store.deleteIfEquals('lock', 'owner-2');
    expect(await store.get('lock')).toBe('owner-1');
    await store.deleteIfEquals('lock', 'owner-1');
    expect(await store.get('lock')).toBeUndefined();
  });

  it('publishes to subscribers of the same prefix only', async () => {
    const other = redisStore({ client: conn.client, prefix: `${prefix}other:` });
    const got: string[] = [];
    const otherGot: string[] = [];
    await store.subscribe((m) => got.push(m));
    await other.subscribe((m) => otherGot.push(m));
    await store.publish('hello');
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['hello']);
    expect(otherGot).toEqual([]);
    await other.close?.();
  });
});

describe('redisStore options', () => {
  it('refuses what is not a Redis client and bad options, naming them', () => {
    expect(() => redisStore({ client: {} })).toThrow(
      '"redisStore.client" must be a node-redis (v4+) or ioredis client',
    );
    const fake = { sendCommand: async () => null, duplicate: () => fake };
    expect(() => redisStore({ client: fake, timeout: -1 })).toThrow(/"redisStore.timeout"/);
    expect(() => redisStore({ client: fake, localTtl: 0 })).toThrow(/"redisStore.localTtl"/);
    expect(() => redisStore({ client: fake, prefx: 'x' } as never)).toThrow(/Unknown option "redisStore.prefx"/);
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
