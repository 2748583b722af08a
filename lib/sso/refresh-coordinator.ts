import { LRUCache } from 'lru-cache';
import createDebug from 'debug';
import type { Telemetry } from '../telemetry/telemetry';
import { SsoGuardError } from '../errors';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inflight } from '../util/inflight';
import type { Shared } from '../store/shared-store';
import type { SsoClient } from './sso-client';
import type { TokenSet } from './types';

const debug = createDebug('express-sso-guard:refresh');

/** How long the outcome of a refresh is remembered for requests still carrying the old cookie (ms). */
export const OUTCOME_TTL_MS = 60_000;
/** A refresh lock outlives the SSO timeout by this much, then expires if its owner died (ms). */
const LOCK_MARGIN_MS = 1000;
/** How often an instance waiting for another's refresh looks for the outcome (ms). */
const POLL_MS = 50;

/** New tokens and when the SSO issued them (ms), so every adopter computes the same expiry. */
export interface RefreshedTokens {
  readonly tokens: TokenSet;
  readonly issuedAt: number;
}

/**
 * What is remembered about a refresh token, in process and in the store. A refusal carries
 * `definiteAt` (clock ms): before it, the refusal is tentative (503, session kept); from it on, it
 * ends the session. A refusal without `definiteAt` (written by an older version) is definitive.
 */
type Remembered =
  { ok: true; outcome: RefreshedTokens; until: number } | { ok: false; until: number; definiteAt?: number };

/**
 * The refusal grace window (ms): how long a refusal of a refresh token stays tentative when a
 * store is configured. The lock is then never known to have been held everywhere: an instance
 * whose store call timed out refreshes without it and only queues its outcome, and a lock owner
 * whose store stalled may not publish in time. Such an instance's call ends within the lock's TTL
 * (`httpTimeout` + 1 s) of our refusal, and its queued write lands within the store's write lag
 * (one timed-out attempt, the skip after a failure, one retry of the write queue). Defaults:
 * 5 s + 1 s + 0.25 s + 1 s + 1 s = 8.25 s.
 */
export function refusalGraceMs(httpTimeout: number, shared: Shared): number {
  return httpTimeout + LOCK_MARGIN_MS + shared.writeLagMs;
}

/** A refusal that may only mean that another instance used the refresh token first: 503, session kept. */
function tentativeRefusal(cause?: unknown): SsoGuardError {
  return new SsoGuardError(
    'upstream_unavailable',
    'The SSO refused the refresh token, which another instance may have just used; retry shortly',
    { cause },
  );
}

/**
 * Whether a remembered outcome is the one the caller already holds: when refresh tokens do not
 * rotate, a session refreshes again with the same refresh token, and must not re-adopt the
 * tokens it is refreshing away from.
 */
function isOwnOutcome(known: Remembered, accessToken: string): boolean {
  return known.ok && known.outcome.tokens.accessToken === accessToken;
}

/** What the refresh coordinator works with (`cache.max`, `cache.invalidTtl`, `httpTimeout`, `session.serverSide`). */
export interface RefreshCoordinatorOptions {
  readonly sso: SsoClient;
  readonly telemetry: Telemetry;
  readonly clock: () => number;
  /** The shared store's view (one refresh across instances), when a store is configured. */
  readonly shared?: Shared;
  /** Most remembered outcomes. */
  readonly max: number;
  /** How long a refused refresh is remembered (seconds). */
  readonly invalidTtl: number;
  /** The SSO timeout (ms): a refresh lock outlives it. */
  readonly httpTimeout: number;
  readonly serverSide: boolean;
}

/**
 * One refresh per refresh token. Concurrent callers share one in-flight call (cleared in
 * `finally`); the outcome is remembered for a minute, keyed by the hash of the old refresh token,
 * so a request that still carries the pre-refresh cookie adopts the new tokens instead of
 * presenting a refresh token that rotation has already killed. With a store, a refusal is first
 * tentative (see {@link refusalGraceMs}): new tokens another instance publishes meanwhile win.
 */
export class RefreshCoordinator {
  private readonly inflight = new Inflight<RefreshedTokens>();
  private readonly outcomes: LRUCache<string, Remembered>;
  private readonly clock: () => number;
  private readonly options: RefreshCoordinatorOptions;
  private readonly sso: SsoClient;
  private readonly telemetry: Telemetry;
  private readonly shared: Shared | undefined;

  constructor(options: RefreshCoordinatorOptions) {
    this.options = options;
    ({ sso: this.sso, telemetry: this.telemetry, shared: this.shared, clock: this.clock } = options);
    this.outcomes = new LRUCache({ max: options.max });
  }

  /**
   * The new tokens for a refresh token: remembered, in flight, or from one new SSO call.
   * Rejects with `refresh_rejected` when the SSO refuses (remembered briefly too; with a store,
   * only once the refusal grace window is over: `upstream_unavailable` until then), or with an
   * upstream error (not remembered: the next request tries again).
   */
  refresh(refreshHash: string, accessToken: string, refreshToken: string): Promise<RefreshedTokens> {
    const known = this.remembered(refreshHash, accessToken);
    // With a store, a remembered refusal is checked against it first: new tokens written since win.
    if (known !== undefined && (known.ok || this.shared === undefined)) return this.settle(known);
    return this.inflight.run(refreshHash, () =>
      this.shared === undefined
        ? this.call(refreshHash, accessToken, refreshToken)
        : this.coordinate(this.shared, refreshHash, accessToken, refreshToken),
    );
  }

  /** What this process remembers about a refresh token, unless expired or the caller's own tokens. */
  private remembered(refreshHash: string, accessToken: string): Remembered | undefined {
    const known = this.outcomes.get(refreshHash);
    return known !== undefined && known.until > this.clock() && !isOwnOutcome(known, accessToken) ? known : undefined;
  }

  /**
   * Across instances: the one that takes the lock refreshes and publishes the outcome; the
   * others poll for it and adopt it. A lock whose owner died expires after the SSO timeout plus a
   * second, and then another instance takes over. Without the store, refresh locally.
   */
  private async coordinate(
    shared: Shared,
    refreshHash: string,
    accessToken: string,
    refreshToken: string,
  ): Promise<RefreshedTokens> {
    const key = `refresh:${refreshHash}` as const;
    const lockTtl = this.options.httpTimeout + LOCK_MARGIN_MS;
    const deadline = performance.now() + lockTtl + this.options.httpTimeout;
    for (;;) {
      // The store's word first; when it has none (or cannot answer), this process's own refusal.
      const known = (await shared.get<Remembered>(key)) ?? this.remembered(refreshHash, accessToken);
      if (known !== undefined && !isOwnOutcome(known, accessToken)) return this.adopt(refreshHash, known);
      const lock = await shared.lock(`lock:${refreshHash}`, lockTtl);
      if (lock.kind === 'unavailable') {
        // No coordination: another instance may refresh this very token meanwhile. A server-side
        // session is not refreshed at all then (its new tokens could not be stored).
        if (this.options.serverSide)
          throw new SsoGuardError('upstream_unavailable', 'The session store is unavailable');
        return this.call(refreshHash, accessToken, refreshToken, false);
      }
      if (lock.kind === 'acquired') {
        try {
          const again = await shared.get<Remembered>(key);
          if (again !== undefined && !isOwnOutcome(again, accessToken)) return this.adopt(refreshHash, again);
          return await this.call(refreshHash, accessToken, refreshToken);
        } finally {
          await shared.unlock(`lock:${refreshHash}`, lock.owner);
        }
      }
      // Held by another instance: wait for its outcome.
      if (performance.now() >= deadline) {
        this.telemetry.refresh('failed');
        throw new SsoGuardError('upstream_timeout', 'Timed out waiting for another instance to refresh the session');
      }
      await sleep(POLL_MS);
    }
  }

  /** Takes over an outcome another instance stored (or this process remembered). */
  private adopt(refreshHash: string, known: Remembered): Promise<RefreshedTokens> {
    debug('adopting a remembered refresh outcome');
    const now = this.clock();
    this.outcomes.set(
      refreshHash,
      known.ok
        ? { ...known, until: now + OUTCOME_TTL_MS }
        : { ...known, until: Math.max(now, known.definiteAt ?? now) + this.options.invalidTtl * 1000 },
    );
    return this.settle(known);
  }

  /**
   * A remembered outcome's answer: its tokens, or its refusal: tentative (503, the session kept)
   * until `definiteAt`, then `refresh_rejected` (the session ends). `since`: when the SSO call started.
   */
  private async settle(known: Remembered, since?: number): Promise<RefreshedTokens> {
    if (known.ok) {
      this.telemetry.refresh('adopted');
      return known.outcome;
    }
    if (known.definiteAt !== undefined && this.clock() < known.definiteAt) {
      debug('refresh token refused, not yet definitively: session kept');
      this.telemetry.refresh('pending', since);
      throw tentativeRefusal();
    }
    this.telemetry.refresh('refused', since);
    throw new SsoGuardError('refresh_rejected', 'The SSO refused the refresh token');
  }

  /**
   * One refresh call. `coordinated` is false when the store could not take the lock: a refusal
   * may then only mean that another instance rotated the token meanwhile, so it must not end the
   * session: it becomes a 503 (session kept) and is not remembered; the next request, with the
   * store back, adopts the other instance's outcome or refreshes again.
   */
  private async call(
    refreshHash: string,
    accessToken: string,
    refreshToken: string,
    coordinated = true,
  ): Promise<RefreshedTokens> {
    debug('refreshing');
    const started = performance.now();
    let tokens: TokenSet;
    try {
      tokens = await this.sso.refresh(accessToken, refreshToken);
    } catch (err) {
      const refused = err instanceof SsoGuardError && err.code === 'refresh_rejected';
      if (refused && coordinated) return this.refused(refreshHash, accessToken, started);
      if (refused) {
        debug('refresh refused while the store was unavailable: session kept');
        this.telemetry.refresh('pending', started);
        throw tentativeRefusal(err);
      }
      debug('refresh failed: %s', err instanceof SsoGuardError ? err.code : 'error');
      this.telemetry.refresh('failed', started);
      throw err;
    }
    const issuedAt = this.clock();
    const outcome = { tokens, issuedAt };
    const remembered: Remembered = { ok: true, outcome, until: issuedAt + OUTCOME_TTL_MS };
    this.outcomes.set(refreshHash, remembered);
    // Queued while the store is unreachable: late requests on other instances adopt it once it is
    // back. A plain write: new tokens replace a tentative refusal another instance wrote meanwhile.
    await this.shared?.writeDurably([{ put: `refresh:${refreshHash}`, value: remembered, ttlMs: OUTCOME_TTL_MS }]);
    debug('refreshed: new token valid %ds', tokens.expiresIn);
    this.telemetry.refresh('refreshed', started);
    return outcome;
  }

  /**
   * The SSO refused the refresh token in a coordinated refresh. Without a store, the lock was held
   * everywhere: the refusal is definitive at once. With one, it is tentative for the refusal grace
   * window, remembered here and in the store, but never over new tokens another instance wrote
   * (those are adopted instead).
   */
  private async refused(refreshHash: string, accessToken: string, started: number): Promise<RefreshedTokens> {
    const now = this.clock();
    const definiteAt = this.shared === undefined ? now : now + refusalGraceMs(this.options.httpTimeout, this.shared);
    const refusal: Remembered = { ok: false, definiteAt, until: definiteAt + this.options.invalidTtl * 1000 };
    this.outcomes.set(refreshHash, refusal);
    const key = `refresh:${refreshHash}` as const;
    if (this.shared !== undefined && !(await this.shared.put(key, refusal, refusal.until - now, true))) {
      const other = await this.shared.get<Remembered>(key);
      if (other?.ok === true && !isOwnOutcome(other, accessToken)) return this.adopt(refreshHash, other);
    }
    return this.settle(refusal, started);
  }
}
