/**
 * Issue 19 section 2: a retried SPI call reaching another instance is answered from the shared
 * store (real Redis) without running the handler again; concurrent duplicates on two instances
 * share one run; answers are sealed in the store (appInfo may hold passwords).
 */
import express from 'express';
import request from 'supertest';
import { createClient } from 'redis';
import { appCenterSpi } from '../../lib/express/spi-router';
import { redisStore } from '../../lib/store/redis';
import type { SpiHandlers } from '../../lib/appcenter/spi-options';
import { REDIS_URL, cleanPrefix, dumpPrefix, uniquePrefix } from '../helpers/redis';
import { describeRedis } from '../helpers/describe-redis';
import { signedQuery, spiTimestamp } from '../helpers/spi';

const KEY = 'secret-app-key-for-tests';

describeRedis('SPI idempotency across two instances (real Redis)', () => {
  let client: ReturnType<typeof createClient>;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    client = createClient({ url: REDIS_URL });
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    await cleanPrefix(prefix);
    await client.quit();
  });

  /** One app instance with its own in-process memory, on the shared Redis. */
  function instance(handlers: SpiHandlers) {
    const app = express();
    app.use('/spi', appCenterSpi({ secretAppKey: KEY, handlers, store: redisStore({ client, prefix }) }));
    return app;
  }
  const create = (orderId: string) =>
    signedQuery(KEY, { action: 'CreateAppInstance', order_id: orderId, time_stamp: spiTimestamp() }).query;

  it('answers a retry reaching the other instance with the first answer, handler run once', async () => {
    let runs = 0;
    const handlers: SpiHandlers = {
      CreateAppInstance: () => ({
        success: true,
        instanceId: `ins-${++runs}`,
        appInfo: { admin: { username: 'root', password: 'admin-password-123' } },
      }),
    };
    const a = instance(handlers);
    const b = instance(handlers);
    const first = await request(a).get(`/spi?${create('order-x')}`);
    const retry = await request(b).get(`/spi?${create('order-x')}`);
    expect(first.body).toEqual({
      success: true,
      instanceId: 'ins-1',
      appInfo: { admin: { username: 'root', password: 'admin-password-123' } },
    });
    expect(retry.body).toEqual(first.body);
    expect(runs).toBe(1);
    const stored = [...(await dumpPrefix(REDIS_URL, prefix)).values()].join('\n');
    expect(stored).not.toContain('admin-password-123');
    expect(stored).not.toContain('ins-1');
  });

  it('shares one run between concurrent duplicates on two instances', async () => {
    let runs = 0;
    const handlers: SpiHandlers = {
      CreateAppInstance: async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { success: true, instanceId: 'ins-shared' };
      },
    };
    const a = instance(handlers);
    const b = instance(handlers);
    const answers = await Promise.all([
      request(a).get(`/spi?${create('order-y')}`),
      request(b).get(`/spi?${create('order-y')}`),
      request(b).get(`/spi?${create('order-y')}`),
    ]);
    for (const res of answers) expect(res.body).toEqual({ success: true, instanceId: 'ins-shared' });
    expect(runs).toBe(1);
  });

  it('does not remember a failure: the retry on the other instance runs the handler', async () => {
    let runs = 0;
    const handlers: SpiHandlers = {
      CreateAppInstance: () =>
        ++runs === 1 ? { success: false, message: 'quota' } : { success: true, instanceId: 'ok' },
    };
    const a = instance(handlers);
    const b = instance(handlers);
    expect((await request(a).get(`/spi?${create('order-z')}`)).body).toEqual({ success: false, message: 'quota' });
    expect((await request(b).get(`/spi?${create('order-z')}`)).body).toEqual({ success: true, instanceId: 'ok' });
    expect(runs).toBe(2);
  });
});
