import { LRUCache } from 'lru-cache';
import type { DurableWrite } from '../store/shared-store';
import type { SsoUser } from '../sso/types';
import { SsoGuardError } from '../errors';
import { tokenHash } from '../util/crypto';

/** Longest user id `revokeUser()` takes (characters). */
const MAX_USER_ID = 1024;

/**
 * The key a user id is known by in the store and in pub/sub messages: never the raw id. Throws
 * `invalid_option` for a `userId` that is not a non-empty string (a bug in the caller).
 */
export function userKeyOf(userId: unknown): string {
  if (typeof userId !== 'string' || userId === '' || userId.length > MAX_USER_ID)
    throw new SsoGuardError(
      'invalid_option',
      `revokeUser(): "userId" must be a non-empty string of at most ${MAX_USER_ID} characters (check_token's user.user_id)`,
    );
  return tokenHash(`user\0${userId}`);
}

/**
 * The store writes of a user revocation (`revokeUser`): the per-user not-before time (ms), kept
 * as long as a session signed in before it could live, and the message that tells every instance.
 * Queued and retried while the store is unreachable, like a logout's.
 */
export function userRevocationWrites(userKey: string, notBefore: number, lifetimeMs: number): DurableWrite[] {
  return [
    { put: `user:${userKey}`, value: notBefore, ttlMs: lifetimeMs },
    { publish: { kind: 'user', userKey, notBefore } },
  ];
}

/**
 * Per-user not-before times (`revokeUser`): a session of that user signed in before the time is
 * refused. Each lasts as long as such a session could (the absolute lifetime); bounded like the
 * session revocations. Empty (the usual case), a lookup costs one size comparison.
 */
export class UserRevocations {
  /** User key -> not-before (ms). */
  private readonly times: LRUCache<string, number>;
  /** User key -> until when the store's answer about it stands here (ms). */
  private readonly asked: LRUCache<string, number>;
  /** The key of each user object the check_token cache handed out (hashed once, not per request). */
  private readonly keys = new WeakMap<SsoUser, string>();

  constructor(
    max: number,
    /** How long a not-before time matters (ms): the session absolute lifetime. */
    readonly lifetimeMs: number,
    private readonly clock: () => number,
  ) {
    this.times = new LRUCache({ max });
    this.asked = new LRUCache({ max });
  }

  /**
   * Whether to ask the store about a user now: once per `ttlMs` per user (the store is asked on a
   * first-level check_token miss, not per session of the user). Marks it asked.
   */
  shouldAsk(userKey: string, now: number, ttlMs: number): boolean {
    const until = this.asked.get(userKey);
    if (until !== undefined && until > now) return false;
    this.asked.set(userKey, now + ttlMs);
    return true;
  }

  /** Forgets what the store said (its events may have been missed). */
  forgetAsked(): void {
    this.asked.clear();
  }

  /** The store key of a user object's id. */
  keyOf(user: SsoUser): string {
    let key = this.keys.get(user);
    if (key === undefined) {
      key = userKeyOf(String(user.user_id));
      this.keys.set(user, key);
    }
    return key;
  }

  /** Records a not-before time (the latest one wins). */
  add(userKey: string, notBefore: number): void {
    const known = this.times.get(userKey);
    if (known === undefined || known < notBefore) this.times.set(userKey, notBefore);
  }

  /** Whether a session of `user` that signed in at `createdAt` (seconds) is refused. */
  refuses(user: SsoUser, createdAt: number): boolean {
    if (this.times.size === 0) return false;
    const key = this.keyOf(user);
    const notBefore = this.times.get(key);
    if (notBefore === undefined) return false;
    if (notBefore + this.lifetimeMs <= this.clock()) {
      this.times.delete(key);
      return false;
    }
    // createdAt carries milliseconds (a cookie from before they did: the whole second, so a
    // sign-in in the revocation's own second counts as before it). A sign-in in the revocation's
    // own millisecond is refused too: it may have come just before it (a new sign-in takes
    // several round trips, so it always lands in a later millisecond).
    return Math.round(createdAt * 1000) <= notBefore;
  }

  /** The not-before time of a user known here, if any. */
  notBefore(userKey: string): number | undefined {
    return this.times.get(userKey);
  }
}
