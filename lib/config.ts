import type { AxiosInstance } from 'axios';
import { SsoGuardError } from './errors';
import type { SsoGuardOptions } from './options';
import type { SsoStore, SsoStoreTuning } from './store/types';

/** The resolved, frozen configuration. The only place raw options are read is `resolveConfig`. */
export interface Config {
  readonly ssoBaseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly secrets: readonly string[];
  readonly appBaseUrl: string;
  readonly appOrigin: string;
  /** Base path of the app (`''` at the origin root), prefixed to redirect targets. */
  readonly basePath: string;
  readonly secureCookies: boolean;
  readonly authRequired: boolean;
  readonly publicPaths: readonly string[];
  readonly publicPrefixes: readonly string[];
  readonly routes: { readonly login: string; readonly callback: string; readonly logout: string };
  readonly callbackUrl: string;
  readonly session: {
    readonly name: string;
    readonly rollingDuration: number;
    readonly absoluteDuration: number;
    readonly domain: string | undefined;
    readonly serverSide: boolean;
  };
  readonly transactionCookieName: string;
  readonly transactionMaxAge: number;
  readonly cache: { readonly max: number; readonly ttl: number; readonly invalidTtl: number };
  readonly tokenIssuer: string | undefined;
  readonly userVerify: boolean;
  readonly httpTimeout: number;
  readonly bearer: boolean;
  readonly renderErrors: boolean;
  readonly cloud: {
    readonly apiBaseUrl: string | undefined;
    readonly signatureVersion: 1 | 2;
    readonly timeout: number;
    readonly zone: string | undefined;
  };
  readonly clock: () => number;
  readonly httpClient: AxiosInstance | undefined;
  readonly store: (SsoStore & SsoStoreTuning) | undefined;
}

const KNOWN: Record<string, readonly string[]> = {
  '': ['ssoBaseUrl', 'clientId', 'clientSecret', 'secret', 'appBaseUrl', 'authRequired', 'publicPaths', 'routes', 'session',
    'transactionMaxAge', 'cache', 'tokenIssuer', 'userVerify', 'httpTimeout', 'bearer', 'renderErrors', 'cloud', 'clock', 'httpClient', 'store'],
  routes: ['login', 'callback', 'logout'],
  session: ['name', 'rollingDuration', 'absoluteDuration', 'domain', 'serverSide'],
  cache: ['max', 'ttl', 'invalidTtl'],
  cloud: ['apiBaseUrl', 'signatureVersion', 'timeout', 'zone'],
};

/** Thrown at construction for a bad option. */
function bad(name: string, expected: string, received: unknown): never {
  throw new SsoGuardError('invalid_option', `"${name}" must be ${expected}; received ${redacted(name, received)}`);
}

/** Options whose value is a credential: their errors say what kind of value came, never the value. */
const CREDENTIALS = new Set(['clientSecret', 'secret']);
/** Options whose value is a URL: their errors show the scheme and host only (userinfo may hold a password). */
const URLS = new Set(['ssoBaseUrl', 'appBaseUrl', 'cloud.apiBaseUrl']);

/** What an error message may say about a received value without echoing a credential. */
function redacted(name: string, value: unknown): string {
  if (CREDENTIALS.has(name)) return typeof value === 'string' ? `a string of ${value.length} characters` : Array.isArray(value) ? `an array of ${value.length}` : typeof value;
  if (URLS.has(name) && typeof value === 'string') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return `a string of ${value.length} characters that is not a URL`;
    }
    const extras = [url.username || url.password ? 'credentials' : '', url.search ? 'a query' : '', url.hash ? 'a fragment' : ''].filter(Boolean);
    return `${JSON.stringify(`${url.protocol}//${url.host}`)}${extras.length > 0 ? ` with ${extras.join(' and ')} (not shown)` : ''}`;
  }
  return describe(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  try {
    return String(JSON.stringify(value));
  } catch {
    return typeof value;
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function refuseUnknown(obj: object, where: string): void {
  const known = KNOWN[where]!;
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const full = where ? `${where}.${key}` : key;
    const best = known.map((k) => [k, editDistance(key, k)] as const).sort((x, y) => x[1] - y[1])[0];
    const hint = best && best[1] <= 3 ? ` Did you mean "${where ? `${where}.` : ''}${best[0]}"?` : '';
    throw new SsoGuardError('invalid_option', `Unknown option "${full}".${hint}`);
  }
}

function section<T extends object>(value: T | undefined, name: string): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(name, 'an object', value);
  refuseUnknown(value, name);
  return value;
}

function httpUrl(name: string, value: unknown): URL {
  if (typeof value !== 'string' || value === '') bad(name, 'an http(s) URL (or set its environment variable)', value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    bad(name, 'an http(s) URL', value);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(name, 'an http(s) URL', value);
  if (url.username || url.password || url.search || url.hash) bad(name, 'a URL without credentials, query or fragment', value);
  return url;
}

function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') bad(name, 'a non-empty string (or set its environment variable)', value);
  return value;
}

function positive(name: string, value: unknown, fallback: number, unit: string, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    bad(name, `a positive ${integer ? 'integer' : 'number'}${unit ? ` of ${unit}` : ''}`, value);
  }
  return value;
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') bad(name, 'true or false', value);
  return value;
}

function routePath(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9\-._~/]*$/.test(value) || value.startsWith('//')) {
    bad(name, 'a path starting with "/"', value);
  }
  return value;
}

const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** Resolves and validates the options once; throws `SsoGuardError('invalid_option')` naming the option. */
export function resolveConfig(options: SsoGuardOptions = {}, env: NodeJS.ProcessEnv = process.env): Config {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) bad('options', 'an object', options);
  refuseUnknown(options, '');
  const o = options;

  const sso = httpUrl('ssoBaseUrl', o.ssoBaseUrl ?? env.SSO_BASE_URL);
  const app = httpUrl('appBaseUrl', o.appBaseUrl ?? env.APP_BASE_URL);
  const clientId = nonEmpty('clientId', o.clientId ?? env.SSO_CLIENT_ID);
  const clientSecret = nonEmpty('clientSecret', o.clientSecret ?? env.SSO_CLIENT_SECRET);

  const rawSecret = o.secret ?? env.SESSION_SECRET;
  const secrets = Array.isArray(rawSecret) ? rawSecret : [rawSecret];
  if (secrets.length === 0) bad('secret', 'a string of at least 32 characters or a non-empty array of them', rawSecret);
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < 32) {
      // Never echo a secret back, not even a short one.
      throw new SsoGuardError('invalid_option', `"secret" must be a string of at least 32 characters (or an array of them, newest first); received ${redacted('secret', s)}`);
    }
  }

  const routesIn = section(o.routes, 'routes');
  const routes = {
    login: routePath('routes.login', routesIn.login, '/login'),
    callback: routePath('routes.callback', routesIn.callback, '/callback'),
    logout: routePath('routes.logout', routesIn.logout, '/logout'),
  };
  const basePath = app.pathname.replace(/\/+$/, '');

  const sessionIn = section(o.session, 'session');
  const name = sessionIn.name ?? 'sso_session';
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) bad('session.name', 'a cookie name (letters, digits, -_.)', name);
  const rollingDuration = positive('session.rollingDuration', sessionIn.rollingDuration, 86400, 'seconds');
  const absoluteDuration = positive('session.absoluteDuration', sessionIn.absoluteDuration, 7 * 86400, 'seconds');
  if (sessionIn.domain !== undefined && (typeof sessionIn.domain !== 'string' || !/^[A-Za-z0-9.-]+$/.test(sessionIn.domain))) {
    bad('session.domain', 'a domain name', sessionIn.domain);
  }

  const transactionMaxAge = positive('transactionMaxAge', o.transactionMaxAge, 600, 'seconds');
  if (transactionMaxAge > 600) bad('transactionMaxAge', 'at most 600 seconds', transactionMaxAge);

  const cacheIn = section(o.cache, 'cache');
  const cache = {
    max: positive('cache.max', cacheIn.max, 10000, '', true),
    ttl: positive('cache.ttl', cacheIn.ttl, 300, 'seconds'),
    invalidTtl: positive('cache.invalidTtl', cacheIn.invalidTtl, 5, 'seconds'),
  };

  if (o.tokenIssuer !== undefined && !['sso', 'iam', 'iam_jwt'].includes(o.tokenIssuer)) {
    bad('tokenIssuer', '"sso", "iam" or "iam_jwt"', o.tokenIssuer);
  }
  const publicPaths = o.publicPaths ?? [];
  if (!Array.isArray(publicPaths) || publicPaths.some((p) => typeof p !== 'string' || !p.startsWith('/'))) {
    bad('publicPaths', 'an array of paths starting with "/"', publicPaths);
  }
  const httpTimeout = positive('httpTimeout', o.httpTimeout, 5000, 'milliseconds');

  const cloudIn = section(o.cloud, 'cloud');
  const cloudUrl = cloudIn.apiBaseUrl ?? env.CLOUD_API_URL;
  const cloud = {
    apiBaseUrl: cloudUrl === undefined || cloudUrl === '' ? undefined : httpUrl('cloud.apiBaseUrl', cloudUrl).origin,
    signatureVersion: cloudIn.signatureVersion ?? 2,
    timeout: positive('cloud.timeout', cloudIn.timeout, httpTimeout, 'milliseconds'),
    zone: cloudIn.zone,
  } as const;
  if (cloud.signatureVersion !== 1 && cloud.signatureVersion !== 2) bad('cloud.signatureVersion', '1 or 2', cloud.signatureVersion);
  if (cloud.zone !== undefined && (typeof cloud.zone !== 'string' || cloud.zone === '')) bad('cloud.zone', 'a non-empty string', cloud.zone);

  if (o.clock !== undefined && typeof o.clock !== 'function') bad('clock', 'a function returning milliseconds', o.clock);
  if (o.httpClient !== undefined && typeof (o.httpClient as { request?: unknown })?.request !== 'function') {
    bad('httpClient', 'an axios instance', o.httpClient);
  }

  const serverSide = bool('session.serverSide', sessionIn.serverSide, false);
  if (serverSide && o.store === undefined) bad('session.serverSide', 'used with a "store" (e.g. redisStore({ client }))', serverSide);
  const STORE_METHODS = ['get', 'set', 'delete', 'deleteIfEquals', 'publish', 'subscribe'] as const;
  if (o.store !== undefined && (o.store === null || typeof o.store !== 'object' || STORE_METHODS.some((m) => typeof (o.store as unknown as Record<string, unknown>)[m] !== 'function'))) {
    bad('store', `a store such as redisStore({ client }) (an object with ${STORE_METHODS.join(', ')})`, o.store);
  }

  return Object.freeze({
    ssoBaseUrl: sso.href.replace(/\/+$/, ''),
    clientId,
    clientSecret,
    secrets: Object.freeze([...secrets] as string[]),
    appBaseUrl: app.origin + basePath,
    appOrigin: app.origin,
    basePath,
    secureCookies: app.protocol === 'https:',
    authRequired: bool('authRequired', o.authRequired, true),
    publicPaths: Object.freeze(publicPaths.filter((p) => !p.endsWith('/*'))),
    publicPrefixes: Object.freeze(publicPaths.filter((p) => p.endsWith('/*')).map((p) => p.slice(0, -1))),
    routes: Object.freeze(routes),
    callbackUrl: app.origin + basePath + routes.callback,
    session: Object.freeze({ name, rollingDuration, absoluteDuration, domain: sessionIn.domain, serverSide }),
    transactionCookieName: `${name}_txn`,
    transactionMaxAge,
    cache: Object.freeze(cache),
    tokenIssuer: o.tokenIssuer,
    userVerify: bool('userVerify', o.userVerify, false),
    httpTimeout,
    bearer: bool('bearer', o.bearer, false),
    renderErrors: bool('renderErrors', o.renderErrors, true),
    cloud: Object.freeze(cloud),
    clock: o.clock ?? Date.now,
    httpClient: o.httpClient,
    store: o.store,
  });
}
