/**
 * The small key-value interface a shared store implements (Redis: `redisStore()`). Keys are
 * relative: the store adds its own prefix. Values are opaque strings that express-sso-guard has
 * already encrypted. Every method may reject; the caller bounds each call with a timeout and
 * falls back to in-process behaviour, so a store never needs retries of its own.
 */
export interface SsoStore {
  /** The value of `key`, or undefined. */
  get(key: string): Promise<string | undefined>;
  /**
   * Sets `key` to `value` for `ttlMs` milliseconds. With `onlyIfAbsent`, only when the key does
   * not exist (a lock); resolves whether the value was set.
   */
  set(key: string, value: string, ttlMs: number, onlyIfAbsent?: boolean): Promise<boolean>;
  /** Deletes `key`. */
  delete(key: string): Promise<void>;
  /** Deletes `key` only while it still holds `value` (releasing a lock only by its owner). */
  deleteIfEquals(key: string, value: string): Promise<void>;
  /** Sends `message` to every instance subscribed to this store (including this one). */
  publish(message: string): Promise<void>;
  /**
   * Calls `listener` with every published message. Resolves once subscribed. A store that can
   * lose its subscription (a dropped connection) calls `onResubscribed` each time it is restored,
   * so the caller knows messages may have been missed meanwhile.
   */
  subscribe(listener: (message: string) => void, onResubscribed?: () => void): Promise<void>;
  /**
   * The store's own key prefix, if it adds one: it is authenticated with every value, so a value
   * copied to another prefix (another app on the same Redis) does not open either.
   */
  readonly prefix?: string;
  /** Releases what the store opened itself (not the client the user passed in). */
  close?(): Promise<void>;
}

/** Tuning a store may carry; `auth()` reads it once. */
export interface SsoStoreTuning {
  /** Longest wait for one store call, in milliseconds, before falling back to in-process behaviour. Default 250. */
  readonly timeout?: number;
  /**
   * Seconds an answer fetched from (or written to) the store stays in the in-process first level.
   * Invalidations (logout) reach other instances by pub/sub at once; this bounds staleness if one
   * is missed. Default 30.
   */
  readonly localTtl?: number;
}
