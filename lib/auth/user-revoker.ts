import { OPTIONS } from '../config';
import type { Seconds } from '../options';
import { resolveOptions } from '../option-rules';
import { userKeyOf, userRevocationWrites } from '../session/user-revocations';
import { Shared, type StoreStats } from '../store/shared-store';
import { storeObject } from '../store/store-option';
import type { SsoStore, SsoStoreTuning } from '../store/types';

/** Options of {@link userRevoker}: the store and secret of the app's `auth()` instances. */
export interface UserRevokerOptions {
  /** The store the app's `auth()` instances share (same Redis, same `prefix`). */
  store: SsoStore & SsoStoreTuning;
  /** The app's `secret` (`SESSION_SECRET` when omitted): the store's values and messages are sealed with it. */
  secret?: string | readonly string[];
  /**
   * The app's `session.absoluteDuration` (seconds): how long the store keeps a revocation.
   * @default 604800 (7 days)
   */
  absoluteDuration?: Seconds;
}

/** Ends users' sessions from a process that runs no `auth()` (an SPI worker, a script). */
export interface UserRevoker {
  /**
   * Ends every session of `userId` (check_token's `user.user_id`) signed in until now, on every
   * instance sharing the store: written to the store and published, or queued and retried while
   * the store is unreachable (then resolved; see `storeStats.queued`). Rejects `invalid_option`
   * for a `userId` that is not a non-empty string.
   */
  revokeUser(userId: string): Promise<void>;
  /** Health counters of the store (`queued`: revocations waiting for it). */
  readonly storeStats: StoreStats;
  /** Stops retrying queued writes after one last attempt; the Redis client passed in stays open. */
  close(): Promise<void>;
}

const REVOKER_OPTIONS = {
  store: { required: true, check: storeObject },
  secret: OPTIONS.secret,
  absoluteDuration: OPTIONS.session.group.absoluteDuration,
} as const;

/**
 * `revokeUser()` without `auth()`, bound to the app's store and secret: for a process that
 * handles AppCenter SPI calls (or an admin script) apart from the web instances. Options are
 * validated here; a bad one throws `invalid_option` naming it.
 */
export function userRevoker(options: UserRevokerOptions): UserRevoker {
  const o = resolveOptions(REVOKER_OPTIONS, options, process.env);
  const lifetimeMs = o.absoluteDuration * 1000;
  const shared = new Shared(o.store, o.secret);
  return Object.freeze({
    async revokeUser(userId: string): Promise<void> {
      await shared.writeDurably(userRevocationWrites(userKeyOf(userId), Date.now(), lifetimeMs));
    },
    storeStats: shared.stats,
    close: () => shared.close(),
  });
}
