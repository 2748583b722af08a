import { LRUCache } from 'lru-cache';
import createDebug from 'debug';
import type { Config } from './config';
import { SsoGuardError } from './errors';
import type { SsoClient, TokenSet } from './sso-client';

const debug = createDebug('express-sso-guard:refresh');

/** How long the outcome of a refresh is remembered for requests still carrying the old cookie (ms). */
export const OUTCOME_TTL_MS = 60_000;

/** New tokens and when the SSO issued them (ms), so every adopter computes the same expiry. */
export interface RefreshOutcome {
  readonly tokens: TokenSet;
  readonly issuedAt: number;
}

type Remembered = { ok: true; outcome: RefreshOutcome; until: number } | { ok: false; until: number };

/**
 * One refresh per refresh token. Concurrent callers share one in-flight call (cleared in
 * `finally`); the outcome is remembered for a minute, keyed by the hash of the old refresh token,
 * so a request that still carries the pre-refresh cookie adopts the new tokens instead of
 * presenting a refresh token that rotation has already killed.
 */
export class RefreshCoordinator {
  private readonly inflight = new Map<string, Promise<RefreshOutcome>>();
  private readonly outcomes: LRUCache<string, Remembered>;
  private readonly clock: () => number;

  constructor(private readonly config: Config, private readonly sso: SsoClient) {
    this.outcomes = new LRUCache({ max: config.cache.max });
    this.clock = config.clock;
  }

  /**
   * The new tokens for a refresh token: remembered, in flight, or from one new SSO call.
   * Rejects with `refresh_rejected` when the SSO refuses (remembered briefly too), or with an
   * upstream error (not remembered: the next request tries again).
   */
  refresh(refreshHash: string, accessToken: string, refreshToken: string): Promise<RefreshOutcome> {
    const now = this.clock();
    const known = this.outcomes.get(refreshHash);
    if (known !== undefined && known.until > now) {
      return known.ok ? Promise.resolve(known.outcome) : Promise.reject(new SsoGuardError('refresh_rejected', 'The SSO refused the refresh token'));
    }
    let pending = this.inflight.get(refreshHash);
    if (pending === undefined) {
      pending = this.call(refreshHash, accessToken, refreshToken).finally(() => this.inflight.delete(refreshHash));
      this.inflight.set(refreshHash, pending);
    }
    return pending;
  }

  private async call(refreshHash: string, accessToken: string, refreshToken: string): Promise<RefreshOutcome> {
    debug('refreshing');
    try {
      const tokens = await this.sso.refresh(accessToken, refreshToken);
      const issuedAt = this.clock();
      const outcome = { tokens, issuedAt };
      this.outcomes.set(refreshHash, { ok: true, outcome, until: issuedAt + OUTCOME_TTL_MS });
      debug('refreshed: new token valid %ds', tokens.expiresIn);
      return outcome;
    } catch (err) {
      if (err instanceof SsoGuardError && err.code === 'refresh_rejected') {
        this.outcomes.set(refreshHash, { ok: false, until: this.clock() + this.config.cache.invalidTtl * 1000 });
      }
      debug('refresh failed: %s', err instanceof SsoGuardError ? err.code : 'error');
      throw err;
    }
  }
}
