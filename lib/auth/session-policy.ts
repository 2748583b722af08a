import type { SessionData } from '../session/session-cookie';

/*
 * Glossary: each word names one thing in lib/auth and lib/sso.
 * - refresh: trade the refresh token for new tokens at the SSO (`refresh_token`); one call per
 *   refresh token across requests and instances (RefreshCoordinator).
 * - renew: refresh, then keep the new tokens in the session (and the store, server-side); the
 *   job of CredentialRenewal.
 * - recheck: ask `check_token` about an access token instead of using the cached answer (a cache
 *   miss, or forced when the cloud API refused the temporary keys).
 * - touch: rewrite an unchanged session's cookie with a new `touchedAt`, extending its rolling
 *   lifetime; at most once per touch interval, so most requests send no Set-Cookie.
 * - reseal: rewrite the cookie because it was sealed with an older secret.
 */

/** The access token is refreshed when a tenth of its lifetime is left… */
export const REFRESH_WINDOW_FRACTION = 0.1;
/** …or a minute, whichever is shorter (seconds). */
export const MAX_REFRESH_WINDOW_SEC = 60;
/** An unchanged cookie is touched once a tenth of the rolling lifetime has passed… */
export const TOUCH_INTERVAL_FRACTION = 0.1;
/** …or an hour, whichever is shorter (seconds). */
export const MAX_TOUCH_INTERVAL_SEC = 3600;

/** Why a session's cookie may need writing, besides its age. */
export interface RewriteCause {
  /** The tokens changed (renewed). */
  readonly renewed: boolean;
  /** The cookie was sealed with an older secret. */
  readonly stale: boolean;
}

/** The session rules, in seconds since the epoch: lifetimes, when to refresh, when to write the cookie. */
export class SessionPolicy {
  /** Seconds between touches of an unchanged cookie. */
  readonly touchInterval: number;

  constructor(
    /** Lifetime from sign-in (`session.absoluteDuration`, seconds). */
    readonly absoluteDuration: number,
    /** Idle lifetime (`session.rollingDuration`, seconds). */
    readonly rollingDuration: number,
  ) {
    this.touchInterval = Math.min(rollingDuration * TOUCH_INTERVAL_FRACTION, MAX_TOUCH_INTERVAL_SEC);
  }

  /** The session's absolute or rolling lifetime is over. */
  lifetimeOver(s: Pick<SessionData, 'createdAt' | 'touchedAt'>, nowSec: number): boolean {
    return nowSec >= this.absoluteEnd(s) || nowSec >= s.touchedAt + this.rollingDuration;
  }

  /** When the session ends whatever happens (seconds): a revocation need not outlive it. */
  absoluteEnd(s: Pick<SessionData, 'createdAt'>): number {
    return s.createdAt + this.absoluteDuration;
  }

  /** The access token is in its refresh window (or past it). */
  refreshDue(s: SessionData, nowSec: number): boolean {
    return nowSec >= s.expiresAt - Math.min(s.lifetime * REFRESH_WINDOW_FRACTION, MAX_REFRESH_WINDOW_SEC);
  }

  accessTokenExpired(s: SessionData, nowSec: number): boolean {
    return nowSec >= s.expiresAt;
  }

  /** The rewrite-or-not rule: write the cookie when renewed, to reseal it, or to touch it. */
  needsRewrite(s: SessionData, nowSec: number, cause: RewriteCause): boolean {
    return cause.renewed || cause.stale || nowSec - s.touchedAt >= this.touchInterval;
  }
}
