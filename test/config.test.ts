import axios from 'axios';
import express from 'express';
import request from 'supertest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudClient } from '../lib/cloud/client';
import { resolveConfig } from '../lib/config';
import { createCore } from '../lib/instance';
import * as rules from '../lib/option-rules';
import { SsoGuardError } from '../lib/errors';
import { auth } from '../lib/express/middleware';
import type { SsoGuardOptions } from '../lib/options';
import type { Emulator } from '../lib/testing';
import { createTestApp, signIn, startTestEmulator, type ExpressFactory } from './helpers/app';
import { testOptions } from './helpers/options';

function errorOf(fn: () => unknown): SsoGuardError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SsoGuardError);
    return err as SsoGuardError;
  }
  throw new Error('expected a throw');
}
const messageOf = (overrides: SsoGuardOptions): string =>
  errorOf(() => resolveConfig(testOptions(overrides), {})).message;

describe('defaults', () => {
  it('resolves defaults and freezes the result', () => {
    const c = resolveConfig(testOptions(), {});
    expect(c.routes).toEqual({ login: '/login', callback: '/callback', logout: '/logout', launch: '/launch' });
    expect(c.callbackUrl).toBe('http://app.test/callback');
    expect(c.session).toMatchObject({ name: 'sso_session', rollingDuration: 86400, absoluteDuration: 604800 });
    expect(c.cache).toEqual({ max: 10000, ttl: 300, invalidTtl: 5 });
    expect(c.httpTimeout).toBe(5000);
    expect(c.authRequired).toBe(true);
    expect(c.secureCookies).toBe(false);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.session)).toBe(true);
  });
});

describe('SSO connection (ssoBaseUrl, clientId, clientSecret)', () => {
  it('reads SSO_BASE_URL, SSO_CLIENT_ID, SSO_CLIENT_SECRET, SESSION_SECRET and APP_BASE_URL', () => {
    const c = resolveConfig(
      {},
      {
        SSO_BASE_URL: 'https://sso.example.com/',
        SSO_CLIENT_ID: 'cid',
        SSO_CLIENT_SECRET: 'csecret',
        SESSION_SECRET: 'x'.repeat(32),
        APP_BASE_URL: 'https://app.example.com/base/',
      },
    );
    expect(c.ssoBaseUrl).toBe('https://sso.example.com');
    expect(c.clientId).toBe('cid');
    expect(c.appBaseUrl).toBe('https://app.example.com/base');
    expect(c.callbackUrl).toBe('https://app.example.com/base/callback');
    expect(c.secureCookies).toBe(true);
  });

  it('names the option, the expected shape and the value', () => {
    expect(messageOf({ ssoBaseUrl: 'ftp://x' })).toMatch(
      /^"ssoBaseUrl" must be an http\(s\) URL; received "ftp:\/\/x"/,
    );
    expect(errorOf(() => resolveConfig({ ...testOptions(), clientId: undefined }, {})).message).toMatch(
      /"clientId" must be a non-empty string/,
    );
  });

  it('refuses URLs with credentials or queries, naming the option and never echoing the password', () => {
    const withPassword = messageOf({ ssoBaseUrl: 'https://u:hunter2@sso.test' });
    expect(withPassword).toMatch(/^"ssoBaseUrl" must be a URL without credentials, query or fragment/);
    expect(withPassword).not.toContain('hunter2');
    expect(messageOf({ appBaseUrl: 'https://app.test/?x=1' })).toMatch(/"appBaseUrl"/);
  });

  it('refuses an appBaseUrl whose path starts with "//" (redirects to it would leave the site)', () => {
    for (const url of [
      'https://app.test//evil.test',
      'https://app.test//evil.test/base/',
      'https://app.test/\\evil.test',
    ]) {
      expect(messageOf({ appBaseUrl: url })).toMatch(
        /^"appBaseUrl" must be an http\(s\) URL whose path does not start with "\/\/"/,
      );
    }
    expect(() =>
      resolveConfig(testOptions({ appBaseUrl: undefined }), { APP_BASE_URL: 'https://app.test//evil.test' }),
    ).toThrow(/"appBaseUrl"/);
    expect(resolveConfig(testOptions({ appBaseUrl: 'https://app.test/a//b' }), {}).basePath).toBe('/a//b');
  });

  it('never echoes a query or fragment either (they may carry a token)', () => {
    for (const url of ['https://sso.test/?access_token=s3cr3t', 'https://sso.test/#s3cr3t']) {
      const message = messageOf({ ssoBaseUrl: url });
      expect(message).toMatch(
        /^"ssoBaseUrl" must be a URL without credentials, query or fragment; received a URL \(https:\/\/sso.test\)/,
      );
      expect(message).not.toContain('s3cr3t');
    }
    expect(messageOf({ cloud: { apiBaseUrl: 'https://api.test/v1?key=s3cr3t' } })).not.toContain('s3cr3t');
  });
});

describe('secret', () => {
  it('requires secrets of at least 32 characters and never echoes them', () => {
    const short = 'short-secret-value';
    const err = errorOf(() => resolveConfig(testOptions({ secret: short }), {}));
    expect(err.code).toBe('invalid_option');
    expect(err.message).toMatch(/"secret" must be a string of at least 32 characters/);
    expect(err.message).not.toContain(short);
    expect(messageOf({ secret: [] })).toMatch(/"secret"/);
    expect(resolveConfig(testOptions({ secret: ['n'.repeat(32), 'o'.repeat(40)] }), {}).secrets).toHaveLength(2);
  });
});

describe('routes and access (routes, authRequired, publicPaths, bearer)', () => {
  it('refuses relative routes and public paths', () => {
    expect(messageOf({ routes: { login: 'login' } })).toMatch(/^"routes.login" must be a path starting with "\/"/);
    expect(messageOf({ publicPaths: ['health'] })).toMatch(/^"publicPaths" must be an array of paths/);
    expect(messageOf({ bearer: 'yes' as never })).toBe('"bearer" must be true or false; received "yes"');
    expect(messageOf({ authRequired: null as never })).toBe('"authRequired" must be true or false; received null');
  });

  it('splits public paths into exact paths and prefixes', () => {
    const c = resolveConfig(testOptions({ publicPaths: ['/health', '/public/*'] }), {});
    expect(c.publicPaths).toEqual(['/health']);
    expect(c.publicPrefixes).toEqual(['/public/']);
  });
});

describe('session', () => {
  it('names the option and its unit', () => {
    expect(messageOf({ session: { absoluteDuration: -5 } })).toBe(
      '"session.absoluteDuration" must be a positive number of seconds; received -5',
    );
    expect(messageOf({ session: { name: 'a b' } })).toMatch(/^"session.name" must be a cookie name/);
    expect(messageOf({ session: { serverSide: true } })).toMatch(/^"session.serverSide" must be used with a "store"/);
  });
});

describe('cache and transactionMaxAge', () => {
  it('names the option and its unit', () => {
    expect(messageOf({ cache: { max: 1.5 } })).toMatch(/^"cache.max" must be a positive integer/);
    expect(messageOf({ transactionMaxAge: 3600 })).toMatch(/^"transactionMaxAge" must be at most 600 seconds/);
  });
});

describe('SSO calls (tokenIssuer, userVerify, httpTimeout)', () => {
  it('refuses bad values', () => {
    expect(messageOf({ tokenIssuer: 'x' as never })).toMatch(
      /^"tokenIssuer" must be one of "sso", "iam", "iam_jwt", "app", "app_dev"/,
    );
    expect(messageOf({ httpTimeout: 0 })).toMatch(
      /^"httpTimeout" must be a positive integer of milliseconds; received 0/,
    );
  });

  it('refuses a non-integer httpTimeout (a timer takes whole milliseconds)', () => {
    expect(messageOf({ httpTimeout: 1500.5 })).toBe(
      '"httpTimeout" must be a positive integer of milliseconds; received 1500.5',
    );
  });
});

describe('cloud', () => {
  it('resolves the cloud settings once, timeout defaulting to httpTimeout', () => {
    const c = resolveConfig(testOptions({ httpTimeout: 1234, cloud: { apiBaseUrl: 'https://api.test/' } }), {});
    expect(c.cloud).toEqual({ apiBaseUrl: 'https://api.test', signatureVersion: 2, timeout: 1234, zone: undefined });
    expect(resolveConfig(testOptions(), { CLOUD_API_URL: 'https://env.api.test' }).cloud.apiBaseUrl).toBe(
      'https://env.api.test',
    );
  });

  it('refuses a zone that is not a zone id', () => {
    expect(messageOf({ cloud: { zone: 'pek 3' } })).toBe(
      '"cloud.zone" must be a zone id such as "pek3"; received "pek 3"',
    );
  });

  it('refuses a non-integer timeout', () => {
    expect(messageOf({ cloud: { timeout: 1500.5 } })).toBe(
      '"cloud.timeout" must be a positive integer of milliseconds; received 1500.5',
    );
  });

  it('refuses an apiBaseUrl with a path instead of cutting it', () => {
    expect(messageOf({ cloud: { apiBaseUrl: 'https://api.test/v1' } })).toMatch(
      /^"cloud.apiBaseUrl" must be an origin such as "https:\/\/api.qingcloud.com"/,
    );
  });

  it('never echoes credentials in cloud.apiBaseUrl', () => {
    const message = messageOf({ cloud: { apiBaseUrl: 'https://user:hunter2@api.test' } });
    expect(message).toMatch(/^"cloud.apiBaseUrl"/);
    expect(message).not.toContain('hunter2');
  });

  it('refuses the same values through auth() at construction, not at the first req.sso.cloud', () => {
    const base = testOptions();
    expect(() => auth({ ...base, cloud: { apiBaseUrl: 'https://api.test', zone: 'pek 3' } })).toThrow(/"cloud.zone"/);
    expect(() => auth({ ...base, cloud: { apiBaseUrl: 'https://api.test', timeout: 1500.5 } })).toThrow(
      /"cloud.timeout"/,
    );
  });
});

describe('clock, httpClient and store', () => {
  it('refuses values of the wrong kind', () => {
    expect(messageOf({ clock: 5 as never })).toMatch(/^"clock" must be a function/);
    expect(messageOf({ httpClient: {} as never })).toMatch(/^"httpClient" must be an axios instance/);
    expect(messageOf({ store: {} as never })).toMatch(/^"store" must be a store/);
  });

  describe('httpClient: a plain axios.create() instance', () => {
    let sso: Emulator;
    beforeAll(async () => {
      sso = await startTestEmulator();
    });
    afterAll(() => sso.close());

    it('signs in and checks the session through it', async () => {
      const httpClient = axios.create();
      const used = jest.fn();
      httpClient.interceptors.request.use((cfg) => {
        used(cfg.url);
        return cfg;
      });
      const app = createTestApp(express as ExpressFactory, sso, { httpClient });
      const { cookie } = await signIn(app, sso);
      const me = await request(app).get('/api/me').set('Cookie', cookie).expect(200);
      expect(me.body.authenticated).toBe(true);
      expect(used).toHaveBeenCalled();
    });

    it('still reads an SSO error status (no axios throw on 4xx) as a rejected sign-in', async () => {
      const app = createTestApp(express as ExpressFactory, sso, { httpClient: axios.create(), bearer: true });
      const res = await request(app).get('/api/me').set('Authorization', 'Bearer not-a-token');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    });
  });
});

describe('unknown options', () => {
  it('refuses unknown options with a suggestion, in one format', () => {
    expect(errorOf(() => resolveConfig({ ...testOptions(), authRequried: true } as never, {})).message).toBe(
      'Unknown option "authRequried". Did you mean "authRequired"?',
    );
    expect(messageOf({ session: { maxAge: 5 } as never })).toBe('Unknown option "session.maxAge".');
    expect(messageOf({ cloud: { timeOut: 5 } as never })).toBe(
      'Unknown option "cloud.timeOut". Did you mean "cloud.timeout"?',
    );
    expect(errorOf(() => resolveConfig({ ...testOptions(), zzzzzzzzzz: 1 } as never, {})).message).toBe(
      'Unknown option "zzzzzzzzzz".',
    );
  });
});

describe('the option table', () => {
  it('documents with @default in options.ts the default the table applies', () => {
    // Each `@default <value>` in the public options type must equal what resolveConfig applies.
    const source = readFileSync(join(__dirname, '../lib/options.ts'), 'utf8');
    const c = resolveConfig(testOptions(), {}) as unknown as Record<string, unknown>;
    const documented = [...source.matchAll(/@default (\S+)[^*]*\*\/\s*(\w+)\?:/g)].map((m) => [m[2]!, m[1]!] as const);
    expect(documented.length).toBeGreaterThan(10);
    // A name may be both an option and a group member (`launch`, `routes.launch`): either value.
    const flat: Record<string, unknown[]> = {};
    for (const [k, v] of Object.entries(c)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v))
        for (const [k2, v2] of Object.entries(v)) (flat[k2] ??= []).push(v2);
      (flat[k] ??= []).push(v);
    }
    for (const [key, value] of documented) {
      if (!/^[-\d'"tf[]/.test(value)) continue; // prose defaults ("none", "httpTimeout") are not values
      expect([key, flat[key]]).toEqual([key, expect.arrayContaining([JSON.parse(value.replace(/'/g, '"'))])]);
    }
  });
});

describe('cloud clients of one auth()', () => {
  it('validates the cloud settings once, not per request', () => {
    const core = createCore(testOptions({ cloud: { apiBaseUrl: 'https://api.test', zone: 'pek3' } }));
    const spy = jest.spyOn(rules, 'resolveOptions');
    const getCredentials = async () => ({ accessKey: 'a', secretKey: 'b', token: 'c' });
    const first = core.cloud!(getCredentials);
    const second = core.cloud!(getCredentials);
    expect(first).toBeInstanceOf(CloudClient);
    expect(second).not.toBe(first);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(createCore(testOptions()).cloud).toBeUndefined();
  });
});
