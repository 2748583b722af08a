/**
 * redisStore tells its caller when a lost subscription is restored (messages may have been missed
 * meanwhile), for both clients, over a real connection cut by a TCP proxy.
 */
import { createClient } from 'redis';
import IORedis from 'ioredis';
import { redisStore } from '../../lib/store/redis';
import { REDIS_URL, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

type Conn = { client: unknown; close(): Promise<void> };

const clients: Array<[string, (url: string) => Promise<Conn>]> = [
  [
    'node-redis',
    async (url) => {
      const client = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 100 } });
      client.on('error', () => undefined);
      await client.connect();
      return { client, close: async () => void client.destroy() };
    },
  ],
  [
    'ioredis',
    async (url) => {
      const client = new IORedis(url, { retryStrategy: () => 100, maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      return { client, close: async () => void client.disconnect() };
    },
  ],
];

describeRedis.each(clients)(
  'redisStore subscription with %s through a proxy that is cut and restored',
  (_name, connect) => {
    let proxy: TcpProxy;

    beforeAll(async () => {
      const url = new URL(REDIS_URL);
      proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
    });
    afterAll(() => proxy.close());

    it('calls onResubscribed once the subscription is back, and receives messages again', async () => {
      const prefix = uniquePrefix();
      const conn = await connect(proxy.url);
      const store = redisStore({ client: conn.client, prefix });
      const messages: string[] = [];
      let restored = 0;
      await store.subscribe(
        (m) => messages.push(m),
        () => restored++,
      );
      try {
        await store.publish('before');
        await new Promise((r) => setTimeout(r, 100));
        expect(messages).toEqual(['before']);
        expect(restored).toBe(0);

        proxy.cut();
        await new Promise((r) => setTimeout(r, 300));
        proxy.restore();
        for (let i = 0; i < 50 && restored === 0; i++) await new Promise((r) => setTimeout(r, 100));
        expect(restored).toBeGreaterThanOrEqual(1);
        // Resubscribed by the client: a message published now arrives.
        for (let i = 0; i < 30 && !messages.includes('after'); i++) {
          await store.publish('after').catch(() => undefined);
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(messages).toContain('after');
      } finally {
        await store.close?.();
        await conn.close();
      }
    });
  },
);
