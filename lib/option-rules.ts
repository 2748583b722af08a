import type { AxiosInstance } from 'axios';
import { SsoGuardError } from './errors';

/**
 * The one place option tables, validators, typo suggestions and option messages are defined.
 * `config.ts` (the options of `auth()`), `cloud/client.ts` (`new CloudClient()`), the redis store
 * and the emulator all use it, so a bad option reads the same everywhere:
 * `"session.absoluteDuration" must be a positive number of seconds; received -5` and
 * `Unknown option "cloud.timeOut". Did you mean "cloud.timeout"?`.
 */

/** The unit of a numeric option, named in its message and its doc. */
export type Unit = 'seconds' | 'milliseconds' | 'entries';

/** What a validator is told besides the value: the option's full name, unit and environment variable. */
export interface CheckContext {
  readonly name: string;
  readonly unit?: Unit;
  readonly env?: string;
}

/** Validates a given value (never `undefined` unless the option is required) and returns the resolved one. */
export type Check<Out> = (value: unknown, at: CheckContext) => Out;

/** One option: where it comes from, what it defaults to, its unit and its validator. */
export interface OptionSpec<Out = unknown> {
  /** Environment variable read when the option is not given (an empty variable counts as unset). */
  readonly env?: string;
  /** Value used when neither the option nor its variable is given. */
  readonly default?: Out;
  /** Unit of a numeric option. */
  readonly unit?: Unit;
  /** Missing (and no default) is an error; otherwise a missing option resolves to `undefined`. */
  readonly required?: true;
  /** A credential: its errors say what kind of value came, never the value. */
  readonly secret?: true;
  readonly check: Check<Out>;
}

/** A nested option object, e.g. `session: { ... }`. */
export interface GroupSpec<T = unknown> {
  readonly group: T;
}

type Leaf<V> = OptionSpec & { readonly default?: V };

/**
 * A table for the options type `O`: exactly one entry per key (a missing or an extra key fails
 * `tsc` with `satisfies OptionTable<O>`), a nested group for nested option objects, and defaults
 * of the option's own type.
 */
export type OptionTable<O> = {
  readonly [K in keyof Required<O>]: NonNullable<O[K]> extends readonly unknown[] | ((...args: never[]) => unknown)
    ? Leaf<NonNullable<O[K]>>
    : NonNullable<O[K]> extends object
      ? Leaf<NonNullable<O[K]>> | GroupSpec<OptionTable<NonNullable<O[K]>>>
      : Leaf<NonNullable<O[K]>>;
};

/** The resolved values of a table: each validator's output, `undefined` only where the option is optional without default. */
export type Resolved<T> = {
  readonly [K in keyof T]: T[K] extends GroupSpec<infer G>
    ? Resolved<G>
    : T[K] extends { readonly check: Check<infer Out> }
      ? T[K] extends { readonly default: unknown } | { readonly required: true }
        ? Out
        : Out | undefined
      : never;
};

/**
 * Resolves `given` against `table`: refuses unknown keys, reads environment variables, applies
 * defaults, runs each validator once, and freezes the result (groups too).
 */
export function resolveOptions<T extends object>(
  table: T,
  given: unknown,
  env: NodeJS.ProcessEnv,
  prefix = '',
): Resolved<T> {
  if (given === undefined) given = {};
  if (!isPlainObject(given)) throw optionError(prefix || 'options', 'an object', given);
  refuseUnknown(given, Object.keys(table), prefix);
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(table) as [string, OptionSpec | GroupSpec<object>][]) {
    const name = prefix ? `${prefix}.${key}` : key;
    if ('group' in entry) {
      out[key] = resolveOptions(entry.group, given[key], env, name);
      continue;
    }
    const fromEnv = entry.env === undefined || env[entry.env] === '' ? undefined : env[entry.env];
    // Only `undefined` means "not given": a `null` is a value, and refused like any bad one.
    const value = given[key] !== undefined ? given[key] : fromEnv;
    const at: CheckContext = { name, unit: entry.unit, env: entry.env };
    if (value !== undefined) out[key] = entry.secret ? checkSecret(entry.check, value, at) : entry.check(value, at);
    else if ('default' in entry) out[key] = entry.default;
    else if (entry.required) out[key] = entry.check(undefined, at);
    else out[key] = undefined;
  }
  return Object.freeze(out) as Resolved<T>;
}

/** Runs a credential's check; its error describes the value by kind and length only. */
function checkSecret<Out>(check: Check<Out>, value: unknown, at: CheckContext): Out {
  try {
    return check(value, at);
  } catch (err) {
    if (!(err instanceof SsoGuardError)) throw err;
    const kind =
      typeof value === 'string'
        ? `a string of ${value.length} characters`
        : Array.isArray(value)
          ? `an array of ${value.length}`
          : value === null
            ? 'null'
            : `a ${typeof value}`;
    throw new SsoGuardError(err.code, err.message.replace(/; received [\s\S]*$/, `; received ${kind}`));
  }
}

// --- Messages --------------------------------------------------------------------------------

/** A bad option: names it and says what it must be; the value is described, never a credential. */
export function optionError(name: string, expected: string, received: unknown, env?: string): SsoGuardError {
  const hint = received === undefined && env !== undefined ? ` (or set ${env})` : '';
  return new SsoGuardError(
    'invalid_option',
    `"${name}" must be ${expected}${hint}; received ${describeValue(received)}`,
  );
}

/**
 * A short, safe description of a received value: short strings quoted, long ones by length, a URL
 * with credentials, a query or a fragment by its origin at most, objects and functions by kind
 * (they may hold secrets).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    // Credentials, a query or a fragment may carry a secret: such a URL shows its origin only.
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (url !== undefined && (url.username !== '' || url.password !== ''))
      return `a URL (${url.protocol}//${url.host}) with credentials (not shown)`;
    // Anything else with an "@" may be a URL holding a password that did not parse: not echoed.
    if (value.includes('@')) return `a string of ${value.length} characters`;
    if (url !== undefined && (url.search !== '' || url.hash !== ''))
      return `a URL (${url.protocol}//${url.host}) with a query or fragment`;
    return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (
    value === null ||
    value === undefined ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint'
  )
    return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'an object';
}

/** Levenshtein distance, ignoring case. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known name a typo most likely meant: at most 2 edits away (3 for names of 8 or more). */
export function closestName(key: string, known: readonly string[]): string | undefined {
  const limit = key.length >= 8 ? 3 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = editDistance(key, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return bestDistance <= limit ? best : undefined;
}

/** The message of the first key of `object` not in `known`, or undefined: `Unknown option "a.b". Did you mean "a.c"?` */
export function unknownOptionMessage(object: object, known: readonly string[], prefix = ''): string | undefined {
  const full = (k: string): string => (prefix ? `${prefix}.${k}` : k);
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const guess = closestName(key, known);
    return `Unknown option "${full(key)}".${guess === undefined ? '' : ` Did you mean "${full(guess)}"?`}`;
  }
  return undefined;
}

/** Throws `invalid_option` for the first key of `object` not in `known`. */
export function refuseUnknown(object: object, known: readonly string[], prefix = ''): void {
  const message = unknownOptionMessage(object, known, prefix);
  if (message !== undefined) throw new SsoGuardError('invalid_option', message);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// --- Validators --------------------------------------------------------------------------------

/** Largest delay a Node.js timer takes (ms); a larger one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

export const nonEmptyString: Check<string> = (v, at) => {
  if (typeof v !== 'string' || v.trim() === '') throw optionError(at.name, 'a non-empty string', v, at.env);
  return v;
};

export const bool: Check<boolean> = (v, at) => {
  if (typeof v !== 'boolean') throw optionError(at.name, 'true or false', v);
  return v;
};

const ofUnit = (at: CheckContext): string => (at.unit === undefined || at.unit === 'entries' ? '' : ` of ${at.unit}`);

/** A positive finite number (durations in seconds may be fractional). */
export const positiveNumber: Check<number> = (v, at) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw optionError(at.name, `a positive number${ofUnit(at)}`, v);
  return v;
};

/** A positive integer; in milliseconds, at most what a timer takes. */
export const positiveInteger: Check<number> = (v, at) => {
  const max = at.unit === 'milliseconds' ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max)
    throw optionError(at.name, `a positive integer${ofUnit(at)}`, v);
  return v;
};

/** One of a few literal values. */
export function oneOf<const V extends readonly (string | number)[]>(...values: V): Check<V[number]> {
  const expected =
    values.length === 1
      ? JSON.stringify(values[0])
      : `${values
          .slice(0, -1)
          .map((x) => JSON.stringify(x))
          .join(', ')} or ${JSON.stringify(values.at(-1))}`;
  return (v, at) => {
    if (!values.includes(v as V[number])) throw optionError(at.name, expected, v);
    return v as V[number];
  };
}

/** A function (a clock, a callback), described by `expected`. */
export function fn<F extends (...args: never[]) => unknown>(expected: string): Check<F> {
  return (v, at) => {
    if (typeof v !== 'function') throw optionError(at.name, expected, v);
    return v as F;
  };
}

/** An http(s) URL without credentials, query or fragment. Credentials are never echoed. */
export const httpUrl: Check<URL> = (v, at) => {
  if (typeof v !== 'string' || v === '') throw optionError(at.name, 'an http(s) URL', v, at.env);
  const url = URL.canParse(v) ? new URL(v) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw optionError(at.name, 'an http(s) URL', v);
  if (url.username || url.password || url.search || url.hash)
    throw optionError(at.name, 'a URL without credentials, query or fragment', v);
  return url;
};

/** An http(s) origin with no path (a trailing `/` is fine); resolves to the origin. */
export const httpOrigin: Check<string> = (v, at) => {
  const url = httpUrl(v, at);
  if (url.pathname !== '/')
    throw optionError(at.name, 'an origin such as "https://api.qingcloud.com" (the client adds /iam/)', v);
  return url.origin;
};

/** A path of the app such as `/login`. */
export const routePath: Check<string> = (v, at) => {
  if (typeof v !== 'string' || !/^\/[A-Za-z0-9\-._~/]*$/.test(v) || v.startsWith('//'))
    throw optionError(at.name, 'a path starting with "/"', v);
  return v;
};

/** A cloud zone id such as `pek3`. */
export const zoneId: Check<string> = (v, at) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9-]+$/.test(v)) throw optionError(at.name, 'a zone id such as "pek3"', v);
  return v;
};

/** An axios instance (anything with a `request` method; the package sets per request what it needs). */
export const axiosInstance: Check<AxiosInstance> = (v, at) => {
  if (typeof (v as { request?: unknown } | null)?.request !== 'function')
    throw optionError(at.name, 'an axios instance', v);
  return v as AxiosInstance;
};

/** An instance of a class the package exports (e.g. a shared `CloudClockSkew`). */
export function instanceOf<C extends abstract new (...args: never[]) => unknown>(
  type: C,
  expected: string,
): Check<InstanceType<C>> {
  return (v, at) => {
    if (!(v instanceof type)) throw optionError(at.name, expected, v);
    return v as InstanceType<C>;
  };
}
