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

type Remembered = { ok: true; outcome: RefreshedTokens; until: number } | { ok: false; until: number };

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
 * presenting a refresh token that rotation has already killed.
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
   * Rejects with `refresh_rejected` when the SSO refuses (remembered briefly too), or with an
   * upstream error (not remembered: the next request tries again).
   */
  refresh(refreshHash: string, accessToken: string, refreshToken: string): Promise<RefreshedTokens> {
    const now = this.clock();
    const known = this.outcomes.get(refreshHash);
    if (known !== undefined && known.until > now && !isOwnOutcome(known, accessToken)) {
      this.telemetry.refresh(known.ok ? 'adopted' : 'refused');
      return known.ok
        ? Promise.resolve(known.outcome)
        : Promise.reject(new SsoGuardError('refresh_rejected', 'The SSO refused the refresh token'));
    }
    return this.inflight.run(refreshHash, () =>
      this.shared === undefined
        ? this.call(refreshHash, accessToken, refreshToken)
        : this.coordinate(this.shared, refreshHash, accessToken, refreshToken),
    );
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
      const known = await shared.get<Remembered>(key);
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

  /** Takes over an outcome another instance stored. */
  private adopt(refreshHash: string, known: Remembered): RefreshedTokens {
    debug('adopting the refresh outcome of another instance');
    this.telemetry.refresh(known.ok ? 'adopted' : 'refused');
    this.outcomes.set(refreshHash, {
      ...known,
      until: this.clock() + (known.ok ? OUTCOME_TTL_MS : this.options.invalidTtl * 1000),
    });
    if (!known.ok) throw new SsoGuardError('refresh_rejected', 'The SSO refused the refresh token');
    return known.outcome;
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
    try {
      const tokens = await this.sso.refresh(accessToken, refreshToken);
      const issuedAt = this.clock();
      const outcome = { tokens, issuedAt };
      const remembered: Remembered = { ok: true, outcome, until: issuedAt + OUTCOME_TTL_MS };
      this.outcomes.set(refreshHash, remembered);
      // Queued while the store is unreachable: late requests on other instances adopt it once it is back.
      await this.shared?.writeDurably([{ put: `refresh:${refreshHash}`, value: remembered, ttlMs: OUTCOME_TTL_MS }]);
      debug('refreshed: new token valid %ds', tokens.expiresIn);
      this.telemetry.refresh('refreshed', started);
      return outcome;
    } catch (err) {
      if (err instanceof SsoGuardError && err.code === 'refresh_rejected' && !coordinated) {
        debug('refresh refused while the store was unavailable: session kept');
        throw new SsoGuardError(
          'upstream_unavailable',
          'The session store is unavailable; the refresh could not be coordinated',
          { cause: err },
        );
      }
      if (err instanceof SsoGuardError && err.code === 'refresh_rejected') {
        const remembered: Remembered = { ok: false, until: this.clock() + this.options.invalidTtl * 1000 };
        this.outcomes.set(refreshHash, remembered);
        await this.shared?.put(`refresh:${refreshHash}`, remembered, this.options.invalidTtl * 1000);
      }
      debug('refresh failed: %s', err instanceof SsoGuardError ? err.code : 'error');
      this.telemetry.refresh(
        err instanceof SsoGuardError && err.code === 'refresh_rejected' ? 'refused' : 'failed',
        started,
      );
      throw err;
    }
  }
}
