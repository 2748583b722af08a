import type {
  EmulatorEndpoint,
  EmulatorErrorStyle,
  EmulatorOptions,
  EmulatorRetCodeType,
  EmulatorRouteHandler,
  EmulatorSettings,
  EmulatorUser,
} from './types';
import { SsoGuardError } from '../errors';
import {
  bool,
  fn,
  isPlainObject,
  nonEmptyString,
  oneOf,
  optionError,
  positiveNumber,
  refuseUnknown,
  resolveOptions as resolveTable,
  type Check,
  type OptionSpec,
  type OptionTable,
  type Resolved,
} from '../option-rules';

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
  /** Where the console page launches the app. */
  readonly console: { readonly authUrl: string | undefined; readonly appUrl: string | undefined };
  readonly secretAppKey: string | undefined;
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

// --- Validators only the emulator uses (the shared ones are in option-rules.ts) ---------------

const port: Check<number> = (v, at) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535)
    throw optionError(at.name, 'an integer from 0 to 65535', v);
  return v;
};

/** An absolute http(s) URL without a fragment (a query is kept), as given. */
const absoluteUrl: Check<string> = (v, at) => {
  const url = typeof v === 'string' && URL.canParse(v) ? new URL(v) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hash || (v as string).includes('#'))
    throw optionError(at.name, 'an absolute http(s) URL without a fragment', v);
  return v as string;
};

function redirectUriList(name: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw optionError(name, 'an array of absolute http(s) URLs', value);
  return value.map((uri: unknown, i) => absoluteUrl(uri, { name: `${name}[${i}]` }));
}

const clientList: Check<ResolvedClient[]> = (v, at) => {
  if (!Array.isArray(v) || v.length === 0)
    throw optionError(at.name, 'a non-empty array of { clientId, clientSecret, redirectUris? }', v);
  const seen = new Set<string>();
  return v.map((client: unknown, i) => {
    const name = `${at.name}[${i}]`;
    if (!isPlainObject(client)) throw optionError(name, 'an object { clientId, clientSecret, redirectUris? }', client);
    refuseUnknown(client, ['clientId', 'clientSecret', 'redirectUris'], name);
    const clientId = nonEmptyString(client.clientId, { name: `${name}.clientId` });
    if (seen.has(clientId)) throw optionError(`${name}.clientId`, 'unique (it is listed twice)', clientId);
    seen.add(clientId);
    return {
      clientId,
      clientSecret: nonEmptyString(client.clientSecret, { name: `${name}.clientSecret` }),
      redirectUris:
        client.redirectUris === undefined ? undefined : redirectUriList(`${name}.redirectUris`, client.redirectUris),
    };
  });
};

/** Validates one user and returns a copy. */
function resolveUser(name: string, user: unknown): EmulatorUser {
  if (!isPlainObject(user)) throw optionError(name, 'an object { user_id, user_name, … }', user);
  const copy: EmulatorUser = {
    ...user,
    user_id: nonEmptyString(user.user_id, { name: `${name}.user_id` }),
    user_name: nonEmptyString(user.user_name, { name: `${name}.user_name` }),
  };
  for (const field of ['email', 'phone', 'lang'] as const) {
    if (user[field] !== undefined && typeof user[field] !== 'string')
      throw optionError(`${name}.${field}`, 'a string', user[field]);
  }
  if (user.user_verify !== undefined) {
    if (!isPlainObject(user.user_verify)) throw optionError(`${name}.user_verify`, 'an object', user.user_verify);
    copy.user_verify = { ...user.user_verify };
  }
  return copy;
}

const userList: Check<EmulatorUser[]> = (v, at) => {
  if (!Array.isArray(v) || v.length === 0) throw optionError(at.name, 'a non-empty array of users', v);
  const seen = new Set<string>();
  return v.map((user: unknown, i) => {
    const resolved = resolveUser(`${at.name}[${i}]`, user);
    if (seen.has(resolved.user_id))
      throw optionError(`${at.name}[${i}].user_id`, 'unique (it is listed twice)', resolved.user_id);
    seen.add(resolved.user_id);
    return resolved;
  });
};

/** `true`, `false` or a user id; whether the id is a configured user is checked once users are known. */
const autoApprove: Check<boolean | string> = (v, at) => {
  if (typeof v !== 'boolean' && (typeof v !== 'string' || v === ''))
    throw optionError(at.name, 'true, false or the user_id of a configured user', v);
  return v;
};

const cloudApiOption: Check<ResolvedOptions['cloudApi']> = (v, at) => {
  const defaults = { instances: undefined, clockOffset: 0, expiredToken: 'status' } as const;
  if (v === true) return defaults;
  if (v === false) return undefined;
  const keys = ['instances', 'clockOffset', 'expiredToken'];
  if (!isPlainObject(v) || Object.keys(v).some((k) => !keys.includes(k)))
    throw optionError(at.name, 'true, false or { instances, clockOffset, expiredToken }', v);
  const { instances, clockOffset = 0, expiredToken = 'status' } = v;
  if (instances !== undefined && (!Array.isArray(instances) || !instances.every(isPlainObject)))
    throw optionError(`${at.name}.instances`, 'an array of objects', instances);
  if (typeof clockOffset !== 'number' || !Number.isFinite(clockOffset))
    throw optionError(`${at.name}.clockOffset`, 'a finite number of milliseconds', clockOffset);
  const expired = oneOf('status', 1200, 2000)(expiredToken, { name: `${at.name}.expiredToken` });
  return { instances: instances as Array<Record<string, unknown>> | undefined, clockOffset, expiredToken: expired };
};

const routeTable: Check<ResolvedRoute[]> = (v, at) => {
  if (!isPlainObject(v)) throw optionError(at.name, 'an object of path prefix -> handler', v);
  return Object.entries(v)
    .map(([prefix, handler]) => {
      const name = `${at.name}[${JSON.stringify(prefix)}]`;
      if (!/^\/[A-Za-z0-9\-._~/]*$/.test(prefix))
        throw optionError(name, 'keyed by a path prefix such as "/iam/"', prefix);
      if (typeof handler !== 'function') throw optionError(name, 'a function (req, res, body) => void', handler);
      const trimmed = prefix.replace(/\/+$/, '');
      const endpoint = ENDPOINTS.find((e) => e === trimmed.slice(1));
      return { prefix: trimmed, endpoint, handler: handler as EmulatorRouteHandler };
    })
    .sort((a, b) => b.prefix.length - a.prefix.length);
};

// --- The option table ---------------------------------------------------------------------------

/** The options `setOptions()` may change on a running emulator (part of {@link EMULATOR_OPTIONS}). */
const SETTINGS = {
  accessTokenTtl: { default: 3600, unit: 'seconds', check: positiveNumber },
  stsTokenTtl: { default: 3600, unit: 'seconds', check: positiveNumber },
  codeTtl: { default: 60, unit: 'seconds', check: positiveNumber },
  refreshTokenTtl: { default: 30 * 24 * 3600, unit: 'seconds', check: positiveNumber },
  refreshTokens: { default: true, check: bool },
  rotateRefreshTokens: { default: true, check: bool },
  errorStyle: { default: 'status', check: oneOf('status', 'ret_code') },
  retCodeOnSuccess: { default: false, check: bool },
  retCodeType: { default: 'number', check: oneOf('number', 'string') },
  refreshWithCredentials: { default: false, check: bool },
  autoApprove: { default: false, check: autoApprove },
} satisfies OptionTable<EmulatorSettings>;

/**
 * Every option of `startEmulator()`, once, on the package's shared validators and messages
 * (`"accessTokenTtl" must be a positive number of seconds; received -5`). `satisfies` makes `tsc`
 * refuse a key missing from, or unknown to, `EmulatorOptions`.
 */
export const EMULATOR_OPTIONS = {
  host: { default: '127.0.0.1', check: nonEmptyString },
  port: { default: 0, check: port },
  /** Default: the `clientId` / `clientSecret` / `redirectUris` shorthand, else the demo client. */
  clients: { check: clientList },
  clientId: { check: nonEmptyString },
  clientSecret: { check: nonEmptyString },
  redirectUris: { check: (v, at) => redirectUriList(at.name, v) },
  /** Default: the demo users. */
  users: { check: userList },
  ...SETTINGS,
  clock: { default: Date.now, check: fn<() => number>('a function returning milliseconds since the epoch') },
  logger: { default: () => undefined, check: fn<(line: string) => void>('a function (line: string) => void') },
  routes: { check: routeTable },
  cloudApi: { default: { instances: undefined, clockOffset: 0, expiredToken: 'status' }, check: cloudApiOption },
  console: { group: { authUrl: { check: absoluteUrl }, appUrl: { check: absoluteUrl } } },
  secretAppKey: { secret: true, check: nonEmptyString },
} satisfies OptionTable<EmulatorOptions>;

/**
 * Validates a settings patch and applies it to `settings`. All-or-nothing: a bad value leaves
 * `settings` untouched. `hasUser` validates an `autoApprove` user id; `firstUserId` resolves `true`.
 */
export function applySettings(
  settings: Settings,
  patch: EmulatorSettings,
  hasUser: (id: string) => boolean,
  firstUserId: string,
): void {
  if (!isPlainObject(patch)) throw optionError('settings', 'an object', patch);
  refuseUnknown(patch, Object.keys(SETTINGS));
  const next: Record<string, unknown> = { ...settings };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const entry = SETTINGS[key as keyof typeof SETTINGS] as OptionSpec;
    next[key] = entry.check(value, { name: key, unit: entry.unit });
  }
  if (patch.autoApprove !== undefined) next.autoApprove = approveAs(patch.autoApprove, hasUser, firstUserId);
  Object.assign(settings, next);
}

/** The user id `autoApprove` approves as, or false. */
function approveAs(value: boolean | string, hasUser: (id: string) => boolean, firstUserId: string): string | false {
  if (value === true) return firstUserId;
  if (value === false || hasUser(value)) return value;
  throw optionError('autoApprove', 'true, false or the user_id of a configured user', value);
}

/** The configured clients: `clients`, or the `clientId` / `clientSecret` / `redirectUris` shorthand, or the demo client. */
function clientsOf(o: Resolved<typeof EMULATOR_OPTIONS>): ResolvedClient[] {
  const shorthand = o.clientId !== undefined || o.clientSecret !== undefined || o.redirectUris !== undefined;
  if (o.clients !== undefined && shorthand) {
    throw new SsoGuardError(
      'invalid_option',
      '"clients" cannot be combined with "clientId" / "clientSecret" / "redirectUris"; list the client in "clients"',
    );
  }
  return (
    o.clients ?? [
      {
        clientId: o.clientId ?? DEMO_CLIENT.clientId,
        clientSecret: o.clientSecret ?? DEMO_CLIENT.clientSecret,
        redirectUris: o.redirectUris,
      },
    ]
  );
}

/** Validates the options of `startEmulator()` once; every later read goes through the result. */
export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  const o = resolveTable(EMULATOR_OPTIONS, options, {});
  const users = o.users ?? demoUsers();
  const firstUserId = users[0]?.user_id ?? '';
  const settings = Object.fromEntries(
    Object.keys(SETTINGS).map((k) => [k, o[k as keyof typeof SETTINGS]]),
  ) as unknown as Settings;
  settings.autoApprove = approveAs(o.autoApprove, (id) => users.some((u) => u.user_id === id), firstUserId);
  return Object.freeze({
    host: o.host,
    port: o.port,
    clients: Object.freeze(clientsOf(o)),
    users: Object.freeze(users),
    settings,
    clock: o.clock,
    logger: o.logger,
    routes: Object.freeze(o.routes ?? []),
    cloudApi: o.cloudApi,
    console: o.console,
    secretAppKey: o.secretAppKey,
  });
}
