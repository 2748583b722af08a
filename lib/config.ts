import type { AxiosInstance } from 'axios';
import { parseCloudInfo } from './cloud/cloud-info';
import { SsoGuardError } from './errors';
import type { SsoGuardOptions } from './options';
import type { SsoStore, SsoStoreTuning } from './store/types';
import { resolveAuthorizationParams, resolveTokenIssuer, type TokenIssuer } from './sso/sso-options';
import type { SsoUser } from './sso/sso-client';
import { EVENT_NAMES } from './telemetry/events';
import { LOG_LEVELS } from './telemetry/logger';
import { createTelemetry, type Telemetry } from './telemetry/telemetry';

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
  readonly tokenIssuer: TokenIssuer | undefined;
  /** Extra authorize URL parameters (the protected ones refused at construction). */
  readonly authorizationParams: Readonly<Record<string, string>>;
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
  readonly authorize: ((user: SsoUser, req: unknown) => boolean | Promise<boolean>) | undefined;
  /** Metrics, spans, events and log lines of this instance. */
  readonly telemetry: Telemetry;
}

const KNOWN: Record<string, readonly string[]> = {
  '': ['ssoBaseUrl', 'clientId', 'clientSecret', 'secret', 'appBaseUrl', 'authRequired', 'publicPaths', 'routes', 'session',
    'transactionMaxAge', 'cache', 'tokenIssuer', 'authorizationParams', 'userVerify', 'httpTimeout', 'bearer', 'renderErrors', 'cloud', 'clock', 'httpClient', 'store', 'cloudInfo',
    'authorize', 'events', 'logger'],
  routes: ['login', 'callback', 'logout'],
  session: ['name', 'rollingDuration', 'absoluteDuration', 'domain', 'serverSide'],
  cache: ['max', 'ttl', 'invalidTtl'],
  cloud: ['apiBaseUrl', 'signatureVersion', 'timeout', 'zone'],
  events: EVENT_NAMES,
};

/** Thrown at construction for a bad option. */
function bad(name: string, expected: string, received: unknown): never {
  throw new SsoGuardError('invalid_option', `"${name}" must be ${expected}; received ${describe(received)}`);
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

/**
 * The SSO and cloud API addresses (raw, validated by the caller). `cloudInfo` (AppCenter's
 * cloud_info) replaces `ssoBaseUrl` + `cloud.apiBaseUrl` and cannot be combined with them.
 * Otherwise each address comes from its option, then its variable (SSO_BASE_URL,
 * CLOUD_API_URL; empty = unset), then APPCENTER_CLOUD_INFO (read only when needed).
 */
function serverAddresses(o: SsoGuardOptions, cloudApiBaseUrl: unknown, env: NodeJS.ProcessEnv): { sso: unknown; api: unknown } {
  const fromCloudInfo = (source: string, value: unknown): { sso: string; api: string } => {
    try {
      const info = parseCloudInfo(value);
      return { sso: info.ssoBaseUrl, api: info.apiBaseUrl };
    } catch (err) {
      throw new SsoGuardError('invalid_option', `${source}: ${(err as Error).message}`);
    }
  };
  if (o.cloudInfo !== undefined) {
    if (o.ssoBaseUrl !== undefined || cloudApiBaseUrl !== undefined) {
      throw new SsoGuardError('invalid_option', '"cloudInfo" replaces "ssoBaseUrl" and "cloud.apiBaseUrl"; give one or the other');
    }
    return fromCloudInfo('"cloudInfo"', o.cloudInfo);
  }
  const sso = o.ssoBaseUrl ?? (env.SSO_BASE_URL || undefined);
  const api = cloudApiBaseUrl ?? (env.CLOUD_API_URL || undefined);
  const info = (sso === undefined || api === undefined) && env.APPCENTER_CLOUD_INFO ? fromCloudInfo('APPCENTER_CLOUD_INFO', env.APPCENTER_CLOUD_INFO) : undefined;
  return { sso: sso ?? info?.sso ?? env.SSO_BASE_URL, api: api ?? info?.api };
}

const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** Resolves and validates the options once; throws `SsoGuardError('invalid_option')` naming the option. */
export function resolveConfig(options: SsoGuardOptions = {}, env: NodeJS.ProcessEnv = process.env): Config {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) bad('options', 'an object', options);
  refuseUnknown(options, '');
  const o = options;

  const servers = serverAddresses(o, o.cloud?.apiBaseUrl, env);
  const sso = httpUrl('ssoBaseUrl', servers.sso);
  const app = httpUrl('appBaseUrl', o.appBaseUrl ?? env.APP_BASE_URL);
  const clientId = nonEmpty('clientId', o.clientId ?? env.SSO_CLIENT_ID);
  const clientSecret = nonEmpty('clientSecret', o.clientSecret ?? env.SSO_CLIENT_SECRET);

  const rawSecret = o.secret ?? env.SESSION_SECRET;
  const secrets = Array.isArray(rawSecret) ? rawSecret : [rawSecret];
  if (secrets.length === 0) bad('secret', 'a string of at least 32 characters or a non-empty array of them', rawSecret);
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < 32) {
      // Never echo a secret back, not even a short one.
      throw new SsoGuardError('invalid_option', `"secret" must be a string of at least 32 characters (or an array of them, newest first); received ${typeof s === 'string' ? `a string of ${s.length} characters` : describe(s)}`);
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

  const tokenIssuer = resolveTokenIssuer(o.tokenIssuer);
  const authorizationParams = resolveAuthorizationParams(o.authorizationParams);
  const publicPaths = o.publicPaths ?? [];
  if (!Array.isArray(publicPaths) || publicPaths.some((p) => typeof p !== 'string' || !p.startsWith('/'))) {
    bad('publicPaths', 'an array of paths starting with "/"', publicPaths);
  }
  const httpTimeout = positive('httpTimeout', o.httpTimeout, 5000, 'milliseconds');

  const cloudIn = section(o.cloud, 'cloud');
  const cloudUrl = servers.api;
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

  // Observability and the authorize hook.
  if (o.authorize !== undefined && typeof o.authorize !== 'function') bad('authorize', 'a function (user, req) returning true or false (or a Promise of it)', o.authorize);
  const eventsIn = section(o.events, 'events');
  for (const [event, listener] of Object.entries(eventsIn)) if (typeof listener !== 'function') bad(`events.${event}`, 'a function', listener);
  const logger = o.logger as unknown as Record<string, unknown> | undefined;
  if (logger !== undefined && (logger === null || typeof logger !== 'object' || LOG_LEVELS.some((l) => typeof logger[l] !== 'function'))) {
    bad('logger', 'an object with debug, info, warn and error methods (pino, winston or console)', typeof logger === 'object' && logger !== null ? `an object without ${LOG_LEVELS.filter((l) => typeof logger[l] !== 'function').join(', ')}` : logger);
  }
  const telemetry = createTelemetry({ logger: o.logger, events: eventsIn, ssoHost: sso.hostname });

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
    tokenIssuer,
    authorizationParams,
    userVerify: bool('userVerify', o.userVerify, false),
    httpTimeout,
    bearer: bool('bearer', o.bearer, false),
    renderErrors: bool('renderErrors', o.renderErrors, true),
    cloud: Object.freeze(cloud),
    clock: o.clock ?? Date.now,
    httpClient: o.httpClient,
    store: o.store,
    authorize: o.authorize as Config['authorize'],
    telemetry,
  });
}
