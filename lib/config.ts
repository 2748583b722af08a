import { parseCloudInfo } from './cloud/cloud-info';
import { storeObject } from './store/store-option';
import { SsoGuardError } from './errors';
import type { SsoGuardOptions } from './options';
import type { RenderPage } from './i18n/pages';
import { resolveAuthorizationParams, resolveTokenIssuer } from './sso/sso-options';
import type { SsoUser } from './sso/types';
import type { SsoGuardEvents } from './telemetry/events';
import { LOG_LEVELS, type SsoGuardLogger } from './telemetry/logger';
import {
  axiosInstance,
  bool,
  fn,
  httpOrigin,
  httpUrl,
  nonEmptyString,
  oneOf,
  optionError,
  positiveInteger,
  positiveNumber,
  resolveOptions,
  routePath,
  zoneId,
  type Check,
  type OptionTable,
  type Resolved,
} from './option-rules';

// --- Validators only auth() uses (the shared ones are in option-rules.ts) ----------------------

const secretList: Check<readonly string[]> = (v, at) => {
  const list = Array.isArray(v) ? v : [v];
  const expected = 'a string of at least 32 characters (or an array of them, newest first)';
  if (list.length === 0) throw optionError(at.name, expected, v);
  for (const s of list) {
    if (typeof s === 'string' && s.length >= 32) continue;
    // Never echo a secret back, not even a short one.
    if (typeof s !== 'string') throw optionError(at.name, expected, s, at.env);
    throw new SsoGuardError(
      'invalid_option',
      `"${at.name}" must be ${expected}; received a string of ${s.length} characters`,
    );
  }
  return Object.freeze([...list] as string[]);
};

const pathList: Check<readonly string[]> = (v, at) => {
  if (!Array.isArray(v) || v.some((p) => typeof p !== 'string' || !p.startsWith('/')))
    throw optionError(at.name, 'an array of paths starting with "/"', v);
  return Object.freeze([...v] as string[]);
};

const cookieName: Check<string> = (v, at) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(v))
    throw optionError(at.name, 'a cookie name (letters, digits, -_.)', v);
  return v;
};

const domainName: Check<string> = (v, at) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9.-]+$/.test(v)) throw optionError(at.name, 'a domain name', v);
  return v;
};

/** The app's URL: an http(s) URL whose path cannot be read as another host (`//evil.test` redirects off-site). */
const appUrl: Check<URL> = (v, at) => {
  const url = httpUrl(v, at);
  if (url.pathname.startsWith('//'))
    throw optionError(at.name, 'an http(s) URL whose path does not start with "//"', v, at.env);
  return url;
};

const atMost =
  (max: number, check: Check<number>): Check<number> =>
  (v, at) => {
    const n = check(v, at);
    if (n > max) throw optionError(at.name, `at most ${max} ${at.unit ?? ''}`.trimEnd(), v);
    return n;
  };

const listener = <K extends keyof SsoGuardEvents>(): Check<NonNullable<SsoGuardEvents[K]>> => fn('a function');

const logger: Check<SsoGuardLogger> = (v, at) => {
  const o = v as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || LOG_LEVELS.some((l) => typeof o[l] !== 'function')) {
    const missing =
      o !== null && typeof o === 'object'
        ? `an object without ${LOG_LEVELS.filter((l) => typeof o[l] !== 'function').join(', ')}`
        : v;
    throw optionError(
      at.name,
      'an object with debug, info, warn and error methods (pino, winston or console)',
      missing,
    );
  }
  return v as SsoGuardLogger;
};

/**
 * The SSO and cloud API addresses (raw, validated by the table). `cloudInfo` (AppCenter's
 * cloud_info) replaces `ssoBaseUrl` + `cloud.apiBaseUrl` and cannot be combined with them.
 * Otherwise each address comes from its option, then its variable (SSO_BASE_URL,
 * CLOUD_API_URL; empty = unset), then APPCENTER_CLOUD_INFO (read only when needed).
 */
function serverAddresses(o: SsoGuardOptions, env: NodeJS.ProcessEnv): { sso: unknown; api: unknown } {
  const cloudApiBaseUrl = (o.cloud as { apiBaseUrl?: unknown } | undefined)?.apiBaseUrl;
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
      throw new SsoGuardError(
        'invalid_option',
        '"cloudInfo" replaces "ssoBaseUrl" and "cloud.apiBaseUrl"; give one or the other',
      );
    }
    return fromCloudInfo('"cloudInfo"', o.cloudInfo);
  }
  const sso = o.ssoBaseUrl ?? (env.SSO_BASE_URL || undefined);
  const api = cloudApiBaseUrl ?? (env.CLOUD_API_URL || undefined);
  const info =
    (sso === undefined || api === undefined) && env.APPCENTER_CLOUD_INFO
      ? fromCloudInfo('APPCENTER_CLOUD_INFO', env.APPCENTER_CLOUD_INFO)
      : undefined;
  return { sso: sso ?? info?.sso, api: api ?? info?.api };
}

// --- The option table ---------------------------------------------------------------------------

/**
 * Every option of `auth()`, once: its environment variable, default, unit and validator. Adding an
 * option is one entry here (and its documented property in `SsoGuardOptions`); `satisfies`
 * makes `tsc` refuse a key missing from, or unknown to, the options type. Defaults match the
 * `@default` tags in options.ts (a test compares them).
 */
export const OPTIONS = {
  ssoBaseUrl: { env: 'SSO_BASE_URL', required: true, check: httpUrl },
  clientId: { env: 'SSO_CLIENT_ID', required: true, check: nonEmptyString },
  clientSecret: { env: 'SSO_CLIENT_SECRET', required: true, secret: true, check: nonEmptyString },
  secret: { env: 'SESSION_SECRET', required: true, secret: true, check: secretList },
  appBaseUrl: { env: 'APP_BASE_URL', required: true, check: appUrl },
  authRequired: { default: true, check: bool },
  publicPaths: { default: [], check: pathList },
  routes: {
    group: {
      login: { default: '/login', check: routePath },
      callback: { default: '/callback', check: routePath },
      logout: { default: '/logout', check: routePath },
      launch: { default: '/launch', check: routePath },
    },
  },
  launch: { default: false, check: bool },
  session: {
    group: {
      name: { default: 'sso_session', check: cookieName },
      rollingDuration: { default: 86400, unit: 'seconds', check: positiveNumber },
      absoluteDuration: { default: 7 * 86400, unit: 'seconds', check: positiveNumber },
      domain: { check: domainName },
      serverSide: { default: false, check: bool },
    },
  },
  transactionMaxAge: { default: 600, unit: 'seconds', check: atMost(600, positiveNumber) },
  cache: {
    group: {
      max: { default: 10000, unit: 'entries', check: positiveInteger },
      ttl: { default: 300, unit: 'seconds', check: positiveNumber },
      invalidTtl: { default: 5, unit: 'seconds', check: positiveNumber },
    },
  },
  tokenIssuer: { check: (v) => resolveTokenIssuer(v)! },
  authorizationParams: { default: {}, check: (v) => resolveAuthorizationParams(v) },
  /** Resolved into `ssoBaseUrl` and `cloud.apiBaseUrl` before the table (see serverAddresses). */
  cloudInfo: { check: nonEmptyString },
  userVerify: { default: false, check: bool },
  httpTimeout: { default: 5000, unit: 'milliseconds', check: positiveInteger },
  bearer: { default: false, check: bool },
  renderErrors: { default: true, check: bool },
  language: { default: 'auto', check: oneOf('auto', 'en', 'zh-CN') },
  renderPage: { check: fn<RenderPage>('a function (kind, context) returning HTML or undefined') },
  noStore: { default: true, check: bool },
  store: { check: storeObject },
  cloud: {
    group: {
      apiBaseUrl: { env: 'CLOUD_API_URL', check: httpOrigin },
      signatureVersion: { default: 2, check: oneOf(1, 2) },
      /** Default: `httpTimeout` (applied in resolveConfig). */
      timeout: { unit: 'milliseconds', check: positiveInteger },
      zone: { check: zoneId },
    },
  },
  clock: { default: Date.now, check: fn<() => number>('a function returning milliseconds') },
  httpClient: { check: axiosInstance },
  // Typed with an untyped request: the framework-agnostic layers pass it through as they got it.
  authorize: {
    check: fn<(user: SsoUser, req: unknown) => boolean | Promise<boolean>>(
      'a function (user, req) returning true or false (or a Promise of it)',
    ),
  },
  events: {
    group: {
      login: { check: listener<'login'>() },
      logout: { check: listener<'logout'>() },
      refresh: { check: listener<'refresh'>() },
      sessionEnd: { check: listener<'sessionEnd'>() },
      ssoError: { check: listener<'ssoError'>() },
    },
  },
  logger: { check: logger },
} as const satisfies OptionTable<SsoGuardOptions>;

/** The options as the table resolves them. */
type Options = Resolved<typeof OPTIONS>;

/** The resolved, frozen configuration: the table's values, plus what follows from them. */
export interface Config extends Omit<Options, 'ssoBaseUrl' | 'appBaseUrl' | 'secret' | 'publicPaths' | 'cloud'> {
  /** The SSO origin (and path), no trailing slash. */
  readonly ssoBaseUrl: string;
  /** Origin and base path of the app, no trailing slash. */
  readonly appBaseUrl: string;
  readonly appOrigin: string;
  /** Base path of the app (`''` at the origin root), prefixed to redirect targets. */
  readonly basePath: string;
  readonly secureCookies: boolean;
  /** `secret` as a list, newest first. */
  readonly secrets: readonly string[];
  /** The exact paths of `publicPaths`. */
  readonly publicPaths: readonly string[];
  /** The prefixes of `publicPaths` (`/public/*` as `/public/`). */
  readonly publicPrefixes: readonly string[];
  readonly callbackUrl: string;
  readonly transactionCookieName: string;
  /** Path of the session cookie and the slot index: the base path, or `/` for a `__Host-` name. */
  readonly cookiePath: string;
  /** Path of the transaction cookies: the callback route, or `/` for a `__Host-` name. */
  readonly transactionCookiePath: string;
  readonly cloud: Options['cloud'] & { readonly timeout: number };
}

/** Resolves and validates the options once; throws `SsoGuardError('invalid_option')` naming the option. */
export function resolveConfig(options: SsoGuardOptions = {}, env: NodeJS.ProcessEnv = process.env): Config {
  // cloudInfo / APPCENTER_CLOUD_INFO stand for the two addresses: resolved first, then validated by the table.
  let given: unknown = options;
  if (options !== null && typeof options === 'object' && !Array.isArray(options)) {
    const servers = serverAddresses(options, env);
    const cloud = options.cloud;
    given = {
      ...options,
      cloudInfo: undefined,
      ssoBaseUrl: servers.sso,
      cloud:
        servers.api === undefined || (cloud !== undefined && (cloud === null || typeof cloud !== 'object'))
          ? cloud
          : { ...cloud, apiBaseUrl: servers.api },
    };
  }
  const o = resolveOptions(OPTIONS, given, env);

  // Rules between options.
  if (o.session.serverSide && o.store === undefined) {
    throw optionError('session.serverSide', 'used with a "store" (e.g. redisStore({ client }))', true);
  }
  // Cookie name prefixes: a browser drops a `__Secure-`/`__Host-` cookie that is not Secure, and a
  // `__Host-` one with a Domain (or a Path other than `/`, which cookiePath below sees to).
  const hostPrefix = /^__host-/i.test(o.session.name);
  if ((hostPrefix || /^__secure-/i.test(o.session.name)) && o.appBaseUrl.protocol !== 'https:')
    throw optionError(
      'session.name',
      'used with an https "appBaseUrl" when it starts with __Host- or __Secure-',
      o.session.name,
    );
  if (hostPrefix && o.session.domain !== undefined)
    throw optionError(
      'session.domain',
      'unset when "session.name" starts with __Host- (no Domain allowed)',
      o.session.domain,
    );

  const { ssoBaseUrl, appBaseUrl, secret, publicPaths, cloud, ...rest } = o;
  const basePath = appBaseUrl.pathname.replace(/\/+$/, '');
  return Object.freeze({
    ...rest,
    ssoBaseUrl: ssoBaseUrl.href.replace(/\/+$/, ''),
    appBaseUrl: appBaseUrl.origin + basePath,
    appOrigin: appBaseUrl.origin,
    basePath,
    secureCookies: appBaseUrl.protocol === 'https:',
    secrets: secret,
    publicPaths: Object.freeze(publicPaths.filter((p) => !p.endsWith('/*'))),
    publicPrefixes: Object.freeze(publicPaths.filter((p) => p.endsWith('/*')).map((p) => p.slice(0, -1))),
    callbackUrl: appBaseUrl.origin + basePath + o.routes.callback,
    transactionCookieName: `${o.session.name}_txn`,
    cookiePath: hostPrefix ? '/' : basePath || '/',
    transactionCookiePath: hostPrefix ? '/' : basePath + o.routes.callback,
    cloud: Object.freeze({ ...cloud, timeout: cloud.timeout ?? o.httpTimeout }),
  });
}
