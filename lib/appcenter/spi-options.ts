import { storeObject } from '../store/store-option';
import {
  fn,
  optionError,
  positiveInteger,
  positiveNumber,
  resolveOptions,
  type Check,
  type OptionTable,
  type Resolved,
} from '../option-rules';
import type { SsoStore } from '../store/types';
import type { SpiHandledAction, SpiParamsByAction, SpiResultByAction } from './spi-params';

/** A handler of one SPI action: the decoded call in, the documented answer out (or a Promise of it). */
export type SpiHandler<A extends SpiHandledAction> = (
  params: SpiParamsByAction[A],
) => SpiResultByAction[A] | Promise<SpiResultByAction[A]>;

/** One handler per action the app handles; an action without one is answered `{success:false}`. */
export type SpiHandlers = { [A in SpiHandledAction]?: SpiHandler<A> };

/** Options of `appCenterSpi()`. */
export interface AppCenterSpiOptions {
  /**
   * The app's `secret_app_key` from the AppCenter console (not the SSO client secret). During a
   * rotation give several, newest first: a call signed with any of them is accepted.
   */
  secretAppKey: string | readonly string[];
  /** `CreateAppInstance`, `RenewAppInstance`, `UpgradeAppInstance`, `ExpireAppInstance`, `DeleteAppInstance`. */
  handlers: SpiHandlers;
  /**
   * The shared store of `auth()` (e.g. `redisStore({ client })`): a retry reaching another
   * instance gets the first answer too. Default: in process only.
   */
  store?: SsoStore;
  /** Largest distance of `time_stamp` from now, either way, in seconds. @default 300 */
  timestampWindow?: number;
  /**
   * Longest wait for a handler, in milliseconds (at most 14000: AppCenter gives up after 15 s);
   * past it the call is answered `{success:false}` and the handler goes on (a retry joins it).
   * @default 12000
   */
  handlerTimeout?: number;
  /** How long a successful answer is remembered for retries, in seconds. @default 86400 */
  idempotencyTtl?: number;
  /** Milliseconds since the epoch; for tests. @default Date.now */
  clock?: () => number;
}

/** AppCenter waits 15 s; the answer must leave before. */
const MAX_HANDLER_TIMEOUT_MS = 14_000;

const keyList: Check<readonly string[]> = (v, at) => {
  const list: unknown[] = Array.isArray(v) ? v : [v];
  const expected = 'a non-empty string (or an array of them, newest first)';
  if (list.length === 0 || list.some((k) => typeof k !== 'string' || k === '')) throw optionError(at.name, expected, v);
  return Object.freeze([...(list as string[])]);
};

const handlerTimeout: Check<number> = (v, at) => {
  const ms = positiveInteger(v, at);
  if (ms > MAX_HANDLER_TIMEOUT_MS)
    throw optionError(at.name, `at most ${MAX_HANDLER_TIMEOUT_MS} milliseconds (AppCenter waits 15 s)`, v);
  return ms;
};

const handler = fn<never>('a function (params) returning the result (or a Promise of it)');

/** Every option of `appCenterSpi()`, once. */
export const SPI_OPTIONS = {
  secretAppKey: { required: true, secret: true, check: keyList },
  handlers: {
    group: {
      CreateAppInstance: { check: handler },
      RenewAppInstance: { check: handler },
      UpgradeAppInstance: { check: handler },
      ExpireAppInstance: { check: handler },
      DeleteAppInstance: { check: handler },
    },
  },
  store: { check: storeObject },
  timestampWindow: { default: 300, unit: 'seconds', check: positiveNumber },
  handlerTimeout: { default: 12_000, unit: 'milliseconds', check: handlerTimeout },
  idempotencyTtl: { default: 86_400, unit: 'seconds', check: positiveNumber },
  clock: { default: Date.now, check: fn<() => number>('a function returning milliseconds') },
} satisfies OptionTable<AppCenterSpiOptions>;

/** The options after validation; `handlers` typed per action. */
export type SpiConfig = Omit<Resolved<typeof SPI_OPTIONS>, 'handlers'> & { readonly handlers: Readonly<SpiHandlers> };

/** Validates the options of `appCenterSpi()` once; a bad one throws `invalid_option` naming it. */
export function resolveSpiOptions(options: unknown): SpiConfig {
  return resolveOptions(SPI_OPTIONS, options, {}) as SpiConfig;
}
