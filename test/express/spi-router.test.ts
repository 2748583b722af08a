/**
 * Issue 19 section 2: `appCenterSpi()` over real HTTP on Express 4 and 5: the four accepted
 * signature forms, refusals that run nothing, key rotation, idempotent retries, handler errors and
 * timeouts, TestConnection.
 */
import { format } from 'node:util';
import request from 'supertest';
import type { Express } from 'express';
import { appCenterSpi } from '../../lib/express/spi-router';
import type { AppCenterSpiOptions, SpiHandlers } from '../../lib/appcenter/spi-options';
import type { CreateAppInstanceParams } from '../../lib/appcenter/spi-params';
import { SPI_SIGNATURE_FORMS } from '../../lib/appcenter/spi-signature';
import { EXPRESS_VERSIONS, type ExpressFactory } from '../helpers/app';
import { base64Json, signedQuery, spiTimestamp } from '../helpers/spi';

const KEY = 'secret-app-key-for-tests';
const OLD_KEY = 'the-previous-secret-app-key';
const ERROR_TEXT = 'postgres://admin:hunter2@db/prod refused';

function createParams(orderId = 'order-1'): Record<string, string> {
  return {
    action: 'CreateAppInstance',
    user_id: 'usr-alice',
    app_id: 'app-123',
    spec: base64Json({ plan: 'pro' }),
    spec_package: base64Json({ seats: 5 }),
    period: '1_month',
    cloud_info: base64Json({ sso_server: 'api.qingcloud.com:7777', api_server: 'https://api.qingcloud.com' }),
    debug: 'true',
    order_id: orderId,
    time_stamp: spiTimestamp(),
  };
}

/** Handlers that count their calls and record what they received. */
function countingHandlers(overrides: SpiHandlers = {}) {
  const calls: Record<string, number> = {};
  const seen: CreateAppInstanceParams[] = [];
  const count = (action: string) => (calls[action] = (calls[action] ?? 0) + 1);
  const handlers: SpiHandlers = {
    CreateAppInstance: (p) => {
      count(p.action);
      seen.push(p);
      return {
        success: true,
        instanceId: `ins-${p.orderId}`,
        appInfo: {
          authUrl: 'https://app.example/launch',
          admin: { url: 'https://app.example/admin', username: 'root', password: 'pw' },
        },
      };
    },
    RenewAppInstance: (p) => (count(p.action), { success: true }),
    UpgradeAppInstance: (p) => (count(p.action), { success: true }),
    ExpireAppInstance: (p) => (count(p.action), { success: true }),
    DeleteAppInstance: (p) => (count(p.action), { success: true }),
    ...overrides,
  };
  return { handlers, calls, seen, total: () => Object.values(calls).reduce((a, b) => a + b, 0) };
}

describe.each(EXPRESS_VERSIONS)('appCenterSpi() on %s', (_name, expressFactory: ExpressFactory) => {
  function spiApp(options: Partial<AppCenterSpiOptions> & Pick<AppCenterSpiOptions, 'handlers'>): Express {
    const app = expressFactory();
    app.use('/spi', appCenterSpi({ secretAppKey: KEY, ...options }));
    return app;
  }
  const get = (app: Express, query: string) => request(app).get(`/spi?${query}`);

  describe('signature', () => {
    it.each(SPI_SIGNATURE_FORMS)('accepts the %s form, answers 200 JSON and decodes the parameters', async (form) => {
      const h = countingHandlers();
      const res = await get(spiApp({ handlers: h.handlers }), signedQuery(KEY, createParams(), form).query);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        success: true,
        instanceId: 'ins-order-1',
        appInfo: {
          authUrl: 'https://app.example/launch',
          admin: { url: 'https://app.example/admin', username: 'root', password: 'pw' },
        },
      });
      const p = h.seen[0]!;
      expect(p).toMatchObject({
        action: 'CreateAppInstance',
        userId: 'usr-alice',
        appId: 'app-123',
        orderId: 'order-1',
        period: '1_month',
        debug: true,
        spec: '{"plan":"pro"}',
        specPackage: '{"seats":5}',
        cloudInfo: { ssoBaseUrl: 'https://api.qingcloud.com:7777', apiBaseUrl: 'https://api.qingcloud.com' },
      });
      expect(p.timeStamp).toBeInstanceOf(Date);
      expect(p.raw.signature).toBeUndefined();
    });

    it('accepts values that need percent-encoding in every form', async () => {
      for (const form of SPI_SIGNATURE_FORMS) {
        const h = countingHandlers();
        const params = { ...createParams(`o-${form}`), user_id: "a b+c/d=é!'()*" };
        const res = await get(spiApp({ handlers: h.handlers }), signedQuery(KEY, params, form).query);
        expect(res.body.success).toBe(true);
        expect(h.seen[0]!.userId).toBe("a b+c/d=é!'()*");
      }
    });

    it('accepts the signature in the app_signature header', async () => {
      const h = countingHandlers();
      const params = createParams();
      const { signature } = signedQuery(KEY, params);
      const query = new URLSearchParams(params).toString();
      const res = await get(spiApp({ handlers: h.handlers }), query).set('app_signature', signature);
      expect(res.body.success).toBe(true);
      expect(h.total()).toBe(1);
    });

    it('accepts any key of a rotation and refuses others', async () => {
      const h = countingHandlers();
      const app = spiApp({ handlers: h.handlers, secretAppKey: [KEY, OLD_KEY] });
      expect((await get(app, signedQuery(KEY, createParams('o1')).query)).body.success).toBe(true);
      expect((await get(app, signedQuery(OLD_KEY, createParams('o2'), 'get-encoded').query)).body.success).toBe(true);
      const res = await get(app, signedQuery('another-key', createParams('o3')).query);
      expect(res.body).toEqual({ success: false, message: 'invalid signature' });
      expect(h.total()).toBe(2);
    });

    const refusals: Array<[string, () => string, string]> = [
      ['a wrong key', () => signedQuery('wrong-key', createParams()).query, 'invalid signature'],
      [
        'a tampered parameter',
        () => signedQuery(KEY, createParams()).query.replace('usr-alice', 'usr-mallory'),
        'invalid signature',
      ],
      [
        'a missing signature',
        () => signedQuery(KEY, createParams()).query.replace(/&signature=[^&]*/, ''),
        'signature missing',
      ],
      [
        'a repeated parameter',
        () => `${signedQuery(KEY, createParams()).query}&user_id=usr-mallory`,
        'parameter "user_id" is repeated',
      ],
      [
        'a parameter added after signing',
        () => `${signedQuery(KEY, createParams()).query}&extra=1`,
        'invalid signature',
      ],
      [
        'a stale time_stamp',
        () => signedQuery(KEY, { ...createParams(), time_stamp: spiTimestamp(-301_000) }).query,
        'time_stamp outside the accepted window',
      ],
      [
        'a future time_stamp',
        () => signedQuery(KEY, { ...createParams(), time_stamp: spiTimestamp(301_000) }).query,
        'time_stamp outside the accepted window',
      ],
      [
        'a missing time_stamp',
        () => {
          const { time_stamp: _omitted, ...params } = createParams();
          return signedQuery(KEY, params).query;
        },
        'time_stamp missing or not ISO 8601',
      ],
      [
        'a time_stamp that is not ISO 8601',
        () => signedQuery(KEY, { ...createParams(), time_stamp: String(Date.now()) }).query,
        'time_stamp missing or not ISO 8601',
      ],
      [
        'a malformed cloud_info',
        () => signedQuery(KEY, { ...createParams(), cloud_info: 'not base64!' }).query,
        'cloud_info is not valid base64',
      ],
      [
        'a missing order_id',
        () => {
          const { order_id: _omitted, ...params } = createParams();
          return signedQuery(KEY, params).query;
        },
        'order_id is required for CreateAppInstance',
      ],
      [
        'an unknown action',
        () => signedQuery(KEY, { ...createParams(), action: 'DropDatabase' }).query,
        'unknown action',
      ],
    ];
    it.each(refusals)('refuses %s as JSON and runs no handler', async (_what, query, message) => {
      const h = countingHandlers();
      const res = await get(spiApp({ handlers: h.handlers }), query());
      expect(res.status).not.toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ success: false, message });
      expect(h.total()).toBe(0);
    });

    it('accepts a time_stamp inside a configured window and refuses one outside it', async () => {
      const h = countingHandlers();
      const app = spiApp({ handlers: h.handlers, timestampWindow: 30 });
      const inside = { ...createParams('in'), time_stamp: spiTimestamp(-20_000) };
      const outside = { ...createParams('out'), time_stamp: spiTimestamp(-40_000) };
      expect((await get(app, signedQuery(KEY, inside).query)).body.success).toBe(true);
      expect((await get(app, signedQuery(KEY, outside).query)).body.success).toBe(false);
      expect(h.total()).toBe(1);
    });
  });

  describe('actions', () => {
    it('answers TestConnection itself', async () => {
      const h = countingHandlers();
      const res = await get(
        spiApp({ handlers: h.handlers }),
        signedQuery(KEY, { action: 'TestConnection', time_stamp: spiTimestamp() }).query,
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true });
      expect(h.total()).toBe(0);
    });

    it.each([
      ['RenewAppInstance', { order_id: 'o-r', instance_id: 'ins-1' }],
      ['UpgradeAppInstance', { order_id: 'o-u', instance_id: 'ins-1' }],
      ['ExpireAppInstance', { instance_id: 'ins-1' }],
      ['DeleteAppInstance', { instance_id: 'ins-1' }],
    ])('runs the %s handler', async (action, extra) => {
      const h = countingHandlers();
      const res = await get(
        spiApp({ handlers: h.handlers }),
        signedQuery(KEY, { action, time_stamp: spiTimestamp(), ...extra }).query,
      );
      expect(res.body).toEqual({ success: true });
      expect(h.calls[action]).toBe(1);
    });

    it('answers {success:false} for an action the app does not handle', async () => {
      const res = await get(spiApp({ handlers: {} }), signedQuery(KEY, createParams()).query);
      expect(res.body).toEqual({ success: false, message: 'CreateAppInstance is not handled by this app' });
    });

    it('refuses an answer that is not the documented shape', async () => {
      const app = spiApp({ handlers: { CreateAppInstance: () => ({ success: true }) as never } });
      const res = await get(app, signedQuery(KEY, createParams()).query);
      expect(res.body).toEqual({ success: false, message: 'the app returned an invalid answer' });
    });

    it('answers 405 to another method and passes other paths on', async () => {
      const app = spiApp({ handlers: countingHandlers().handlers });
      app.use((_req, res) => res.status(404).send('next'));
      expect((await request(app).post('/spi')).status).toBe(405);
      expect((await request(app).get('/spi/other')).text).toBe('next');
    });
  });

  describe('handler failures', () => {
    it('answers {success:false} without the error text when a handler throws, and runs it again on a retry', async () => {
      let attempts = 0;
      const app = spiApp({
        handlers: {
          CreateAppInstance: async () => {
            attempts++;
            if (attempts === 1) throw new Error(ERROR_TEXT);
            return { success: true, instanceId: 'ins-2' };
          },
        },
      });
      const query = signedQuery(KEY, createParams()).query;
      const first = await get(app, query);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ success: false, message: 'the app could not handle this call' });
      expect(first.text).not.toContain('hunter2');
      const retry = await get(app, query);
      expect(retry.body).toEqual({ success: true, instanceId: 'ins-2' });
      expect(attempts).toBe(2);
    });

    it('answers {success:false} when a handler passes handlerTimeout; a retry gets its result without a second run', async () => {
      let runs = 0;
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const app = spiApp({
        handlerTimeout: 50,
        handlers: {
          CreateAppInstance: async () => {
            runs++;
            await released;
            return { success: true, instanceId: 'ins-slow' };
          },
        },
      });
      const query = signedQuery(KEY, createParams()).query;
      const first = await get(app, query);
      expect(first.body).toEqual({ success: false, message: 'the app did not answer in time' });
      release();
      const retry = await get(app, query);
      expect(retry.body).toEqual({ success: true, instanceId: 'ins-slow' });
      expect(runs).toBe(1);
    });
  });

  describe('idempotency', () => {
    it('answers a retried order_id with the first answer without running the handler again', async () => {
      let n = 0;
      const app = spiApp({ handlers: { CreateAppInstance: () => ({ success: true, instanceId: `ins-${++n}` }) } });
      const first = await get(app, signedQuery(KEY, createParams()).query);
      // A retry is a new request: new time_stamp, new signature, same order_id.
      const retry = await get(app, signedQuery(KEY, createParams(), 'get-plain').query);
      expect(first.body).toEqual({ success: true, instanceId: 'ins-1' });
      expect(retry.body).toEqual(first.body);
      expect(n).toBe(1);
      const other = await get(app, signedQuery(KEY, createParams('order-2')).query);
      expect(other.body).toEqual({ success: true, instanceId: 'ins-2' });
    });

    it('dedupes Expire and Delete on instance_id, each action apart', async () => {
      const h = countingHandlers();
      const app = spiApp({ handlers: h.handlers });
      for (const action of ['ExpireAppInstance', 'ExpireAppInstance', 'DeleteAppInstance', 'DeleteAppInstance']) {
        const res = await get(
          app,
          signedQuery(KEY, { action, instance_id: 'ins-9', time_stamp: spiTimestamp() }).query,
        );
        expect(res.body).toEqual({ success: true });
      }
      expect(h.calls).toEqual({ ExpireAppInstance: 1, DeleteAppInstance: 1 });
    });

    it('shares one handler call between concurrent duplicates', async () => {
      let runs = 0;
      const app = spiApp({
        handlers: {
          CreateAppInstance: async () => {
            runs++;
            await new Promise((resolve) => setTimeout(resolve, 100));
            return { success: true, instanceId: 'ins-c' };
          },
        },
      });
      const answers = await Promise.all(
        [0, 1, 2, 3].map(() => get(app, signedQuery(KEY, createParams()).query).then((r) => r.body as unknown)),
      );
      expect(answers).toEqual(Array(4).fill({ success: true, instanceId: 'ins-c' }));
      expect(runs).toBe(1);
    });
  });
});

describe('appCenterSpi() logs', () => {
  it('logs actions and outcomes under express-sso-guard:spi, never a key, a signature, a value or an error text', async () => {
    const createDebug = require('debug') as typeof import('debug');
    const written: string[] = [];
    const previous = createDebug.log;
    createDebug.enable('express-sso-guard:*');
    createDebug.log = (...args: unknown[]) => void written.push(format(...args));
    try {
      const app = EXPRESS_VERSIONS[1][1]();
      app.use(
        '/spi',
        appCenterSpi({
          secretAppKey: KEY,
          handlers: {
            CreateAppInstance: () => ({
              success: true,
              instanceId: 'ins-1',
              appInfo: { admin: { password: 'pw-123' } },
            }),
            DeleteAppInstance: () => {
              throw new Error(ERROR_TEXT);
            },
          },
        }),
      );
      const signed = signedQuery(KEY, createParams());
      await request(app).get(`/spi?${signed.query}`);
      await request(app).get(`/spi?${signedQuery('wrong-key', createParams()).query}`);
      const del = { action: 'DeleteAppInstance', instance_id: 'ins-1', time_stamp: spiTimestamp() };
      await request(app).get(`/spi?${signedQuery(KEY, del).query}`);
      const log = written.join('\n');
      expect(log).toContain('CreateAppInstance: success true');
      expect(log).toContain('refused: invalid signature');
      expect(log).toContain('DeleteAppInstance handler failed (Error)');
      for (const secret of [KEY, signed.signature, 'usr-alice', 'order-1', 'pw-123', 'hunter2'])
        expect(log).not.toContain(secret);
    } finally {
      createDebug.disable();
      createDebug.log = previous;
    }
  });
});

describe('appCenterSpi() options', () => {
  const handlers = { CreateAppInstance: () => ({ success: true as const, instanceId: 'x' }) };
  it.each([
    [{ handlers }, '"secretAppKey" must be a non-empty string (or an array of them, newest first); received undefined'],
    [
      { secretAppKey: [], handlers },
      '"secretAppKey" must be a non-empty string (or an array of them, newest first); received an array of 0',
    ],
    [
      { secretAppKey: KEY, handlers: { CreateAppInstanc: handlers.CreateAppInstance } },
      'Unknown option "handlers.CreateAppInstanc". Did you mean "handlers.CreateAppInstance"?',
    ],
    [
      { secretAppKey: KEY, handlers: { CreateAppInstance: 'x' } },
      '"handlers.CreateAppInstance" must be a function (params) returning the result (or a Promise of it); received "x"',
    ],
    [
      { secretAppKey: KEY, handlers, handlerTimeout: 15000 },
      '"handlerTimeout" must be at most 14000 milliseconds (AppCenter waits 15 s); received 15000',
    ],
    [
      { secretAppKey: KEY, handlers, timestampWindow: -1 },
      '"timestampWindow" must be a positive number of seconds; received -1',
    ],
    [
      { secretAppKey: KEY, handlers, store: {} },
      '"store" must be a store such as redisStore({ client }) (an object with get, set, delete, deleteIfEquals, publish, subscribe); received an object',
    ],
  ])('refuses %j at construction', (options, message) => {
    expect(() => appCenterSpi(options as never)).toThrow(message);
  });

  it('never echoes a key in its message', () => {
    expect(() => appCenterSpi({ secretAppKey: [KEY, 5] as never, handlers })).toThrow(/received an array of 2$/);
  });
});
