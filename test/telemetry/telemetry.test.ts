import * as api from '@opentelemetry/api';
import { resolveConfig } from '../../lib/config';
import { emit } from '../../lib/telemetry/events';
import { safeLogger } from '../../lib/telemetry/logger';
import { Telemetry } from '../../lib/telemetry/telemetry';
import { testOptions } from '../helpers/options';

type Call = { name: string; value: number; attributes: unknown };

/** `@opentelemetry/api` whose meter hands out recording instruments (no SDK involved). */
function recordingApi(calls: Call[]): typeof api {
  const instrument = (name: string) => ({
    add: (value: number, attributes?: unknown) => void calls.push({ name, value, attributes }),
    record: (value: number, attributes?: unknown) => void calls.push({ name, value, attributes }),
  });
  const meter = { createCounter: instrument, createHistogram: instrument };
  return { ...api, metrics: { ...api.metrics, getMeter: () => meter } } as unknown as typeof api;
}

describe('Telemetry', () => {
  it('records a cache hit with one precomputed, frozen attribute set: no allocation per hit', () => {
    const calls: Call[] = [];
    const t = new Telemetry({}, recordingApi(calls));
    t.checkTokenCache('hit');
    t.checkTokenCache('hit');
    t.checkTokenCache('miss');
    expect(calls.map((c) => [c.name, c.value, c.attributes])).toEqual([
      ['sso_guard.check_token.cache', 1, { result: 'hit' }],
      ['sso_guard.check_token.cache', 1, { result: 'hit' }],
      ['sso_guard.check_token.cache', 1, { result: 'miss' }],
    ]);
    expect(calls[0]!.attributes).toBe(calls[1]!.attributes);
    expect(Object.isFrozen(calls[0]!.attributes)).toBe(true);
  });

  it('records SSO durations with the same attribute object per endpoint and outcome', async () => {
    const calls: Call[] = [];
    const t = new Telemetry({}, recordingApi(calls));
    await t.sso('check_token', async () => 'ok');
    await t.sso('check_token', async () => 'ok');
    await t.sso(
      'check_token',
      async () => undefined,
      (r) => r === undefined,
    );
    expect(calls.map((c) => c.attributes)).toEqual([
      { 'sso.endpoint': 'check_token', 'sso.outcome': 'ok' },
      { 'sso.endpoint': 'check_token', 'sso.outcome': 'ok' },
      { 'sso.endpoint': 'check_token', 'sso.outcome': 'refused' },
    ]);
    expect(calls[0]!.attributes).toBe(calls[1]!.attributes);
  });

  it('without an SDK registered (the API alone), records nothing and never throws', async () => {
    const t = new Telemetry({ ssoHost: 'sso.test' }, api);
    t.checkTokenCache('hit');
    t.refresh('refreshed', 0);
    t.sessionStarted('u', 'callback');
    t.sessionEnded('logout', 'u');
    t.storeFallback('get', true, 'down');
    t.httpStatus(200);
    await expect(t.sso('token', async () => 1)).resolves.toBe(1);
    await expect(t.cloud('DescribeInstances', 'api.test', async () => 2)).resolves.toBe(2);
    await expect(
      t.sso('token', async () => Promise.reject(Object.assign(new Error('x'), { code: 'upstream_timeout' }))),
    ).rejects.toThrow('x');
  });
});

describe('logger', () => {
  it('prefixes lines and survives a logger that throws', () => {
    const lines: string[] = [];
    const log = safeLogger({
      debug: (m) => lines.push(`d ${m}`),
      info: (m) => lines.push(`i ${m}`),
      warn: () => {
        throw new Error('broken logger');
      },
      error: (m) => lines.push(`e ${m}`),
    });
    log.info('hello');
    expect(() => log.warn('boom')).not.toThrow();
    expect(lines).toEqual(['i express-sso-guard: hello']);
  });

  it('fits console (one string argument)', () => {
    const spy = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      safeLogger(console).warn('careful');
      expect(spy).toHaveBeenCalledWith('express-sso-guard: careful');
    } finally {
      spy.mockRestore();
    }
  });

  it('defaults to the debug namespace express-sso-guard:events', () => {
    const createDebug = require('debug') as typeof import('debug');
    const written: string[] = [];
    const previous = createDebug.log;
    createDebug.enable('express-sso-guard:events');
    createDebug.log = (...args: unknown[]) => void written.push(args.join(' '));
    try {
      safeLogger(undefined).warn('store down');
      expect(written.join('\n')).toMatch(/express-sso-guard:events.*warn express-sso-guard: store down/);
    } finally {
      createDebug.disable();
      createDebug.log = previous;
    }
  });
});

describe('emit', () => {
  it('calls the listener with a frozen payload; a throwing or rejecting listener is logged, never thrown', async () => {
    const errors: string[] = [];
    const log = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m) };
    let got: unknown;
    emit({ login: (e) => void (got = e) }, log, 'login', { userId: 'u', entry: 'callback' });
    expect(got).toEqual({ userId: 'u', entry: 'callback' });
    expect(Object.isFrozen(got)).toBe(true);
    expect(() =>
      emit(
        {
          login: () => {
            throw new Error('listener bug');
          },
        },
        log,
        'login',
        { userId: 'u', entry: 'callback' },
      ),
    ).not.toThrow();
    emit({ logout: async () => Promise.reject(new Error('async bug')) }, log, 'logout', { userId: undefined });
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['"login" listener failed: listener bug', '"logout" listener failed: async bug']);
  });
});

describe('options', () => {
  const bad = (o: object) => () => resolveConfig(testOptions(o as never));
  it('validates authorize, events and logger, naming the option', () => {
    expect(bad({ authorize: true })).toThrow(
      '"authorize" must be a function (user, req) returning true or false (or a Promise of it); received true',
    );
    expect(bad({ events: { login: 'x' } })).toThrow('"events.login" must be a function; received "x"');
    expect(bad({ events: { signin: () => {} } })).toThrow('Unknown option "events.signin".');
    expect(bad({ events: { sesionEnd: () => {} } })).toThrow('Did you mean "events.sessionEnd"?');
    expect(bad({ logger: { info() {} } })).toThrow(
      '"logger" must be an object with debug, info, warn and error methods (pino, winston or console); received "an object without debug, warn, error"',
    );
    expect(bad({ logger: 'pino' })).toThrow('"logger" must be an object');
    expect(bad({ loger: console })).toThrow('Did you mean "logger"?');
  });

  it('accepts console, a pino logger and async listeners', () => {
    const pino = require('pino') as typeof import('pino');
    expect(() => resolveConfig(testOptions({ logger: console }))).not.toThrow();
    expect(() =>
      resolveConfig(
        testOptions({
          logger: pino({ level: 'silent' }),
          authorize: async () => true,
          events: { login: async () => {} },
        }),
      ),
    ).not.toThrow();
  });
});
