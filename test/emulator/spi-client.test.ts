/**
 * Issue 19, emulator side: `sso.spi()` sends AppCenter SPI calls, signed and retried like the
 * platform, to the real `appCenterSpi()` router on a listening Express 4 and 5 app.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appCenterSpi } from '../../lib/express/spi-router';
import type { SpiHandlers } from '../../lib/appcenter/spi-options';
import { SPI_SIGNATURE_FORMS, signSpiParams } from '../../lib/appcenter/spi-signature';
import { parseSpiQuery } from '../../lib/appcenter/spi-params';
import { startEmulator, type Emulator } from '../../lib/testing';
import { EXPRESS_VERSIONS, type ExpressFactory } from '../helpers/app';

const KEY = 'secret-app-key-for-tests';

describe.each(EXPRESS_VERSIONS)('sso.spi() against appCenterSpi() on %s', (_name, expressFactory: ExpressFactory) => {
  let sso: Emulator;
  const servers: http.Server[] = [];

  beforeAll(async () => {
    sso = await startEmulator({ secretAppKey: KEY });
  });
  afterAll(async () => {
    await sso.close();
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A listening app with the SPI router at /spi; resolves its SPI URL. */
  async function spiUrl(handlers: SpiHandlers, options: { secretAppKey?: string; handlerTimeout?: number } = {}) {
    const app = expressFactory();
    app.use('/spi', appCenterSpi({ secretAppKey: KEY, handlers, ...options }));
    const server = http.createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/spi`;
  }

  function recording() {
    const seen: Array<Record<string, unknown>> = [];
    const handlers: SpiHandlers = {
      CreateAppInstance: (p) => (seen.push({ ...p }), { success: true, instanceId: `ins-${p.orderId}` }),
      RenewAppInstance: (p) => (seen.push({ ...p }), { success: true }),
      UpgradeAppInstance: (p) => (seen.push({ ...p }), { success: true }),
      ExpireAppInstance: (p) => (seen.push({ ...p }), { success: true }),
      DeleteAppInstance: (p) => (seen.push({ ...p }), { success: true }),
    };
    return { handlers, seen };
  }

  it('sends every action, signed, and each is answered at the first attempt', async () => {
    const { handlers, seen } = recording();
    const url = await spiUrl(handlers);
    const calls: Array<[Parameters<Emulator['spi']>[1], Record<string, unknown>]> = [
      ['TestConnection', {}],
      [
        'CreateAppInstance',
        {
          order_id: 'o-1',
          user_id: 'usr-alice',
          app_id: 'app-1',
          spec: { plan: 'pro' },
          cloud_info: { sso_server: 'account.example.com', api_server: 'api.example.com:7777' },
          debug: true,
        },
      ],
      ['RenewAppInstance', { order_id: 'o-2', instance_id: 'ins-o-1', period: '1_month' }],
      ['UpgradeAppInstance', { order_id: 'o-3', instance_id: 'ins-o-1' }],
      ['ExpireAppInstance', { instance_id: 'ins-o-1' }],
      ['DeleteAppInstance', { instance_id: 'ins-o-1' }],
    ];
    for (const [action, params] of calls) {
      const result = await sso.spi(url, action, params as never);
      expect(result.success).toBe(true);
      expect(result.attempts).toHaveLength(1);
    }
    expect(seen.map((p) => p.action)).toEqual(calls.slice(1).map(([a]) => a));
    expect(seen[0]).toMatchObject({
      orderId: 'o-1',
      spec: '{"plan":"pro"}',
      debug: true,
      cloudInfo: { ssoBaseUrl: 'https://account.example.com', apiBaseUrl: 'https://api.example.com:7777' },
    });
  });

  it.each(SPI_SIGNATURE_FORMS)('signs in the %s form, with parameters of the SPI URL signed too', async (form) => {
    const { handlers, seen } = recording();
    const url = await spiUrl(handlers);
    const result = await sso.spi(
      `${url}?tenant=a%20b`,
      'CreateAppInstance',
      { order_id: `o-${form}`, user_id: "é !'*" },
      { form },
    );
    expect(result).toMatchObject({ success: true, body: { success: true, instanceId: `ins-o-${form}` } });
    expect(seen[0]).toMatchObject({ userId: "é !'*", raw: { tenant: 'a b' } });
  });

  it.each(SPI_SIGNATURE_FORMS)('puts the %s-form signature in the query and the app_signature header', async (form) => {
    const seen: Array<{ query: string; header: unknown }> = [];
    const server = http.createServer((req, res) => {
      seen.push({ query: (req.url ?? '').split('?')[1] ?? '', header: req.headers.app_signature });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/spi`;
    await sso.spi(url, 'CreateAppInstance', { order_id: 'o', note: 'a b/c' }, { form });
    const { signature, ...params } = parseSpiQuery(seen[0]!.query);
    expect(params).toMatchObject({ action: 'CreateAppInstance', order_id: 'o', note: 'a b/c' });
    expect(params.time_stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(signature).toBe(signSpiParams(KEY, params, form));
    expect(seen[0]!.header).toBe(signature);
  });

  it('retries like the platform: 3 more times for Create, 2 for TestConnection, counted', async () => {
    let runs = 0;
    const url = await spiUrl({ CreateAppInstance: () => (runs++, { success: false, message: 'not yet' }) });
    const create = await sso.spi(url, 'CreateAppInstance', { order_id: 'o-r' }, { retryDelayMs: 0 });
    expect(create.success).toBe(false);
    expect(create.attempts).toHaveLength(4);
    expect(create.attempts[0]).toEqual({
      status: 200,
      body: { success: false, message: 'not yet' },
      problem: 'success is not true',
    });
    expect(runs).toBe(4);

    const wrongKey = await sso.spi(url, 'TestConnection', {}, { retryDelayMs: 0, secretAppKey: 'another-key' });
    expect(wrongKey.attempts).toHaveLength(3);
    expect(wrongKey.attempts[2]).toMatchObject({ status: 401, body: { success: false, message: 'invalid signature' } });
  });

  it('retries after a failure and stops at the first success; the router runs the handler once per success', async () => {
    let runs = 0;
    const url = await spiUrl({
      ExpireAppInstance: () => {
        runs++;
        if (runs < 3) throw new Error('database down');
        return { success: true };
      },
    });
    const result = await sso.spi(url, 'ExpireAppInstance', { instance_id: 'ins-x' }, { retryDelayMs: 0 });
    expect(result.success).toBe(true);
    expect(result.attempts.map((a) => a.problem)).toEqual(['success is not true', 'success is not true', undefined]);
    // A retry of a call that already succeeded is answered from memory.
    const again = await sso.spi(url, 'ExpireAppInstance', { instance_id: 'ins-x' });
    expect(again.success).toBe(true);
    expect(runs).toBe(3);
  });

  it('counts an attempt that passes timeoutMs as a timeout and retries it', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const url = await spiUrl({ DeleteAppInstance: async () => (await released, { success: true }) });
    const result = await sso.spi(
      url,
      'DeleteAppInstance',
      { instance_id: 'ins-t' },
      { retries: 1, retryDelayMs: 0, timeoutMs: 100 },
    );
    release();
    expect(result.attempts).toEqual([{ problem: 'timeout' }, { problem: 'timeout' }]);
    expect(result.success).toBe(false);
  });

  it('refuses to send without a secret_app_key, naming the option', async () => {
    const bare = await startEmulator();
    try {
      expect(() => bare.spi('http://127.0.0.1:1/spi', 'TestConnection')).toThrow('"secretAppKey" must be');
    } finally {
      await bare.close();
    }
  });
});
