import type {
  EmulatorEndpoint,
  EmulatorErrorStyle,
  EmulatorOptions,
  EmulatorRetCodeType,
  EmulatorRouteHandler,
  EmulatorSettings,
  EmulatorUser,
} from './types';
import { unknownOptionMessage } from '../option-rules';

/** A client after validation. */
export interface ResolvedClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** `undefined`: any localhost URL is accepted. */
  readonly redirectUris: readonly string[] | undefined;
}

/** The settings that `setOptions()` may change; read at use time, never cached elsewhere. */
export interface Settings {
  accessTokenTtl: number;
  stsTokenTtl: number;
  codeTtl: number;
  refreshTokenTtl: number;
  refreshTokens: boolean;
  rotateRefreshTokens: boolean;
  errorStyle: EmulatorErrorStyle;
  retCodeOnSuccess: boolean;
  retCodeType: EmulatorRetCodeType;
  refreshWithCredentials: boolean;
  /** The user id to approve as, or `false` to show the sign-in page. */
  autoApprove: string | false;
}

/** A mounted extra route. */
export interface ResolvedRoute {
  /** Prefix without trailing slash, e.g. `/iam`. */
  readonly prefix: string;
  /** The endpoint it is counted and faulted under, when its name is one. */
  readonly endpoint: EmulatorEndpoint | undefined;
  readonly handler: EmulatorRouteHandler;
}

/** Options after validation. Only `settings` changes after construction. */
export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  /** In configuration order; the first is the default of `approve()` / `issueTokens()`. */
  readonly clients: readonly ResolvedClient[];
  readonly users: readonly EmulatorUser[];
  readonly settings: Settings;
  readonly clock: () => number;
  readonly logger: (line: string) => void;
  /** Longest prefix first. */
  readonly routes: readonly ResolvedRoute[];
  /** `undefined` when the cloud API is off; else its options (`instances` `undefined`: the demo list). */
  readonly cloudApi:
    | {
        instances: Array<Record<string, unknown>> | undefined;
        clockOffset: number;
        expiredToken: 'status' | 1200 | 2000;
      }
    | undefined;
}

/** The built-in demo client. */
export const DEMO_CLIENT = Object.freeze({ clientId: 'example-client', clientSecret: 'example-secret' });

/** Every endpoint name, in a stable order. */
export const ENDPOINTS: readonly EmulatorEndpoint[] = ['authorize', 'token', 'check_token', 'refresh_token', 'iam'];

function demoUsers(): EmulatorUser[] {
  return [
    {
      user_id: 'usr-alice',
      user_name: 'alice',
      email: 'alice@example.com',
      phone: '+1 555 0100',
      lang: 'en',
      user_verify: { email_verified: true, phone_verified: true, mfa_enabled: false },
    },
    {
      user_id: 'usr-bob',
      user_name: 'bob',
      email: 'bob@example.com',
      phone: '+1 555 0101',
      lang: 'zh-cn',
      user_verify: { email_verified: true, phone_verified: false, mfa_enabled: false },
    },
  ];
}

const OPTION_KEYS = [
  'host',
  'port',
  'clients',
  'clientId',
  'clientSecret',
  'redirectUris',
  'users',
  'autoApprove',
  'accessTokenTtl',
  'stsTokenTtl',
  'codeTtl',
  'refreshTokens',
  'rotateRefreshTokens',
  'refreshTokenTtl',
  'errorStyle',
  'retCodeOnSuccess',
  'retCodeType',
  'refreshWithCredentials',
  'clock',
  'logger',
  'routes',
  'cloudApi',
] as const;

const SETTING_KEYS = [
  'accessTokenTtl',
  'stsTokenTtl',
  'codeTtl',
  'refreshTokens',
  'rotateRefreshTokens',
  'refreshTokenTtl',
  'errorStyle',
  'retCodeOnSuccess',
  'retCodeType',
  'refreshWithCredentials',
  'autoApprove',
] as const;

const DEFAULT_SETTINGS = {
  accessTokenTtl: 3600,
  stsTokenTtl: 3600,
  codeTtl: 60,
  refreshTokenTtl: 30 * 24 * 3600,
  refreshTokens: true,
  rotateRefreshTokens: true,
  errorStyle: 'status',
  retCodeOnSuccess: false,
  retCodeType: 'number',
  refreshWithCredentials: false,
} as const;

/** Short description of a bad value for an error message (never echoes long strings in full). */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}…` : JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

/** The TypeError of a bad option: names it, says what it must be, shows what it got. */
export function fail(name: string, expected: string, received: unknown): TypeError {
  return new TypeError(`"${name}" must be ${expected}; received ${describe(received)}`);
}

/** Refuses keys not in `known`, suggesting the likely intended one (the package's one message format). */
export function refuseUnknownKeys(object: object, known: readonly string[], where: string): void {
  const message = unknownOptionMessage(object, known);
  if (message !== undefined) throw new TypeError(`${where}: ${message}`);
}

/** A non-null, non-array object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw fail(name, 'a non-empty string', value);
  return value;
}

function seconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw fail(name, 'a positive number of seconds', value);
  return value;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw fail(name, 'true or false', value);
  return value;
}

function redirectUriList(name: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw fail(name, 'an array of absolute http(s) URLs', value);
  return value.map((uri: unknown, i) => {
    let url: URL | undefined;
    try {
      url = typeof uri === 'string' ? new URL(uri) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hash || (uri as string).includes('#')) {
      throw fail(`${name}[${i}]`, 'an absolute http(s) URL without a fragment', uri);
    }
    return uri as string;
  });
}

function resolveClients(options: EmulatorOptions): ResolvedClient[] {
  const shorthand =
    options.clientId !== undefined || options.clientSecret !== undefined || options.redirectUris !== undefined;
  if (options.clients !== undefined && shorthand) {
    throw new TypeError(
      '"clients" cannot be combined with "clientId" / "clientSecret" / "redirectUris"; list the client in "clients"',
    );
  }
  if (options.clients === undefined) {
    return [
      {
        clientId: options.clientId === undefined ? DEMO_CLIENT.clientId : nonEmptyString('clientId', options.clientId),
        clientSecret:
          options.clientSecret === undefined
            ? DEMO_CLIENT.clientSecret
            : nonEmptyString('clientSecret', options.clientSecret),
        redirectUris:
          options.redirectUris === undefined ? undefined : redirectUriList('redirectUris', options.redirectUris),
      },
    ];
  }
  if (!Array.isArray(options.clients) || options.clients.length === 0) {
    throw fail('clients', 'a non-empty array of { clientId, clientSecret, redirectUris? }', options.clients);
  }
  const seen = new Set<string>();
  return options.clients.map((client: unknown, i) => {
    if (!isPlainObject(client))
      throw fail(`clients[${i}]`, 'an object { clientId, clientSecret, redirectUris? }', client);
    refuseUnknownKeys(client, ['clientId', 'clientSecret', 'redirectUris'], `"clients[${i}]"`);
    const clientId = nonEmptyString(`clients[${i}].clientId`, client.clientId);
    if (seen.has(clientId))
      throw new TypeError(`"clients[${i}].clientId" must be unique; ${describe(clientId)} is listed twice`);
    seen.add(clientId);
    return {
      clientId,
      clientSecret: nonEmptyString(`clients[${i}].clientSecret`, client.clientSecret),
      redirectUris:
        client.redirectUris === undefined
          ? undefined
          : redirectUriList(`clients[${i}].redirectUris`, client.redirectUris),
    };
  });
}

/** Validates one user and returns a copy. */
function resolveUser(name: string, user: unknown): EmulatorUser {
  if (!isPlainObject(user)) throw fail(name, 'an object { user_id, user_name, … }', user);
  const copy: EmulatorUser = {
    ...user,
    user_id: nonEmptyString(`${name}.user_id`, user.user_id),
    user_name: nonEmptyString(`${name}.user_name`, user.user_name),
  };
  for (const field of ['email', 'phone', 'lang'] as const) {
    if (user[field] !== undefined && typeof user[field] !== 'string')
      throw fail(`${name}.${field}`, 'a string', user[field]);
  }
  if (user.user_verify !== undefined) {
    if (!isPlainObject(user.user_verify)) throw fail(`${name}.user_verify`, 'an object', user.user_verify);
    copy.user_verify = { ...user.user_verify };
  }
  return copy;
}

function resolveUsers(value: unknown): EmulatorUser[] {
  if (value === undefined) return demoUsers();
  if (!Array.isArray(value) || value.length === 0) throw fail('users', 'a non-empty array of users', value);
  const seen = new Set<string>();
  return value.map((user: unknown, i) => {
    const resolved = resolveUser(`users[${i}]`, user);
    if (seen.has(resolved.user_id))
      throw new TypeError(`"users[${i}].user_id" must be unique; ${describe(resolved.user_id)} is listed twice`);
    seen.add(resolved.user_id);
    return resolved;
  });
}

function resolveCloudApi(value: unknown): ResolvedOptions['cloudApi'] {
  const defaults = { instances: undefined, clockOffset: 0, expiredToken: 'status' } as const;
  if (value === undefined || value === true) return defaults;
  if (value === false) return undefined;
  const keys = ['instances', 'clockOffset', 'expiredToken'];
  if (!isPlainObject(value) || Object.keys(value).some((k) => !keys.includes(k)))
    throw fail('cloudApi', 'true, false or { instances, clockOffset, expiredToken }', value);
  const {
    instances,
    clockOffset = 0,
    expiredToken = 'status',
  } = value as { instances?: unknown; clockOffset?: unknown; expiredToken?: unknown };
  if (instances !== undefined && (!Array.isArray(instances) || !instances.every(isPlainObject)))
    throw fail('cloudApi.instances', 'an array of objects', instances);
  if (typeof clockOffset !== 'number' || !Number.isFinite(clockOffset))
    throw fail('cloudApi.clockOffset', 'a finite number of milliseconds', clockOffset);
  if (expiredToken !== 'status' && expiredToken !== 1200 && expiredToken !== 2000)
    throw fail('cloudApi.expiredToken', '"status", 1200 or 2000', expiredToken);
  return { instances: instances as Array<Record<string, unknown>> | undefined, clockOffset, expiredToken };
}

function resolveRoutes(value: unknown): ResolvedRoute[] {
  if (value === undefined) return [];
  if (!isPlainObject(value)) throw fail('routes', 'an object of path prefix -> handler', value);
  return Object.entries(value)
    .map(([prefix, handler]) => {
      if (!/^\/[A-Za-z0-9\-._~/]*$/.test(prefix))
        throw fail(`routes[${JSON.stringify(prefix)}]`, 'keyed by a path prefix such as "/iam/"', prefix);
      if (typeof handler !== 'function')
        throw fail(`routes[${JSON.stringify(prefix)}]`, 'a function (req, res, body) => void', handler);
      const trimmed = prefix.replace(/\/+$/, '');
      const name = trimmed.slice(1);
      const endpoint = ENDPOINTS.find((e) => e === name);
      return { prefix: trimmed, endpoint, handler: handler as EmulatorRouteHandler };
    })
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * Validates a settings patch and applies it to `settings`. All-or-nothing: a bad value leaves
 * `settings` untouched. `hasUser` validates an `autoApprove` user id; `firstUserId` resolves `true`.
 */
export function applySettings(
  settings: Settings,
  patch: EmulatorSettings,
  hasUser: (id: string) => boolean,
  firstUserId: string,
  where = 'setOptions()',
): void {
  if (!isPlainObject(patch))
    throw new TypeError(`${where}: expected an object of settings; received ${describe(patch)}`);
  refuseUnknownKeys(patch, SETTING_KEYS, where);
  const next: Settings = { ...settings };
  if (patch.accessTokenTtl !== undefined) next.accessTokenTtl = seconds('accessTokenTtl', patch.accessTokenTtl);
  if (patch.stsTokenTtl !== undefined) next.stsTokenTtl = seconds('stsTokenTtl', patch.stsTokenTtl);
  if (patch.codeTtl !== undefined) next.codeTtl = seconds('codeTtl', patch.codeTtl);
  if (patch.refreshTokenTtl !== undefined) next.refreshTokenTtl = seconds('refreshTokenTtl', patch.refreshTokenTtl);
  if (patch.refreshTokens !== undefined) next.refreshTokens = boolean('refreshTokens', patch.refreshTokens);
  if (patch.rotateRefreshTokens !== undefined)
    next.rotateRefreshTokens = boolean('rotateRefreshTokens', patch.rotateRefreshTokens);
  if (patch.retCodeOnSuccess !== undefined) next.retCodeOnSuccess = boolean('retCodeOnSuccess', patch.retCodeOnSuccess);
  if (patch.refreshWithCredentials !== undefined)
    next.refreshWithCredentials = boolean('refreshWithCredentials', patch.refreshWithCredentials);
  if (patch.retCodeType !== undefined) {
    if (patch.retCodeType !== 'number' && patch.retCodeType !== 'string')
      throw fail('retCodeType', '"number" or "string"', patch.retCodeType);
    next.retCodeType = patch.retCodeType;
  }
  if (patch.errorStyle !== undefined) {
    if (patch.errorStyle !== 'status' && patch.errorStyle !== 'ret_code')
      throw fail('errorStyle', '"status" or "ret_code"', patch.errorStyle);
    next.errorStyle = patch.errorStyle;
  }
  if (patch.autoApprove !== undefined) {
    const value: unknown = patch.autoApprove;
    if (value === true) next.autoApprove = firstUserId;
    else if (value === false) next.autoApprove = false;
    else if (typeof value === 'string' && hasUser(value)) next.autoApprove = value;
    else throw fail('autoApprove', 'true, false or the user_id of a configured user', value);
  }
  Object.assign(settings, next);
}

/** Validates the options of `startEmulator()` once; every later read goes through the result. */
export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  if (!isPlainObject(options))
    throw new TypeError(`startEmulator(): options must be an object; received ${describe(options)}`);
  refuseUnknownKeys(options, OPTION_KEYS, 'startEmulator()');
  const host = options.host === undefined ? '127.0.0.1' : nonEmptyString('host', options.host);
  const port = options.port ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw fail('port', 'an integer from 0 to 65535', port);
  const clock: unknown = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw fail('clock', 'a function returning milliseconds since the epoch', clock);
  const logger: unknown = options.logger ?? (() => undefined);
  if (typeof logger !== 'function') throw fail('logger', 'a function (line: string) => void', logger);
  const users = resolveUsers(options.users);
  const firstUserId = users[0]?.user_id ?? '';
  const settings: Settings = { ...DEFAULT_SETTINGS, autoApprove: false };
  const patch = Object.fromEntries(
    SETTING_KEYS.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]),
  );
  applySettings(settings, patch, (id) => users.some((u) => u.user_id === id), firstUserId, 'startEmulator()');
  return Object.freeze({
    host,
    port,
    clients: Object.freeze(resolveClients(options)),
    users: Object.freeze(users),
    settings,
    clock: clock as () => number,
    logger: logger as (line: string) => void,
    routes: Object.freeze(resolveRoutes(options.routes)),
    cloudApi: resolveCloudApi(options.cloudApi),
  });
}
