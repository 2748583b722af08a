import createDebug from 'debug';
import { SsoGuardError } from '../errors';
import type { CacheEntry, CheckTokenCache } from '../sso/check-token-cache';
import type { RefreshCoordinator } from '../sso/refresh-coordinator';
import type { CheckResult } from '../sso/types';
import type { SessionData } from '../session/session-cookie';
import { tokenHash } from '../util/crypto';
import type { SessionLifecycle } from './session-lifecycle';
import { sessionFromTokens } from './session-from-tokens';

const debug = createDebug('express-sso-guard:session');

/** What a refresh ahead of expiry came to. */
export type EarlyRenewal =
  | { readonly kind: 'renewed'; readonly session: SessionData }
  /** The SSO failed (not refused) while the access token is still valid: use it meanwhile. */
  | { readonly kind: 'deferred'; readonly error: SsoGuardError };

/** A recheck's answer, with the renewed session and its cookie when the token had to be renewed. */
export interface Recheck {
  readonly result: CheckResult;
  readonly session?: SessionData;
  readonly setCookie?: string[];
}

/** The parts credential renewal works with. */
export interface CredentialRenewalParts {
  readonly refresher: RefreshCoordinator;
  readonly cache: CheckTokenCache;
  readonly lifecycle: SessionLifecycle;
  readonly clock: () => number;
  /** How long an answer about a token of unknown expiry is kept (`cache.ttl`, seconds). */
  readonly unknownExpiryTtl: number;
}

/**
 * Credential renewal: new tokens for a session (refresh, see the glossary in session-policy.ts)
 * and check_token answers for its access token. Rejections surface as SsoGuardErrors
 * (`refresh_rejected`, upstream failures); what they mean for the request is the caller's call.
 */
export class CredentialRenewal {
  private readonly refresher: RefreshCoordinator;
  private readonly cache: CheckTokenCache;
  private readonly lifecycle: SessionLifecycle;
  private readonly clock: () => number;
  private readonly unknownExpiryTtl: number;

  constructor(parts: CredentialRenewalParts) {
    this.refresher = parts.refresher;
    this.cache = parts.cache;
    this.lifecycle = parts.lifecycle;
    this.clock = parts.clock;
    this.unknownExpiryTtl = parts.unknownExpiryTtl;
  }

  /** Refreshes (or adopts a remembered refresh of) a session's tokens, and keeps them. */
  async renew(s: SessionData, nowSec: number): Promise<SessionData> {
    const refreshToken = s.refreshToken!;
    const { tokens, issuedAt } = await this.refresher.refresh(tokenHash(refreshToken), s.accessToken, refreshToken);
    const renewed = sessionFromTokens(this.lifecycle, tokens, {
      entry: 'refresh',
      now: nowSec * 1000,
      issuedAt,
      renews: s,
    });
    const next = renewed.session;
    // A refresh answer that carried the keys and user stands for the new token's check_token.
    if (tokens.check !== undefined)
      await this.cache.seed(tokenHash(next.accessToken), tokens.check, next.expiresAt * 1000);
    // Tokens the SSO already issued: kept even through a store outage (written behind).
    await renewed.commit();
    return next;
  }

  /**
   * Renews a session whose token is in its refresh window. An upstream failure while the token
   * is still valid is deferred; a refused refresh token, or any failure of an expired token, rejects.
   * (With a store, a refusal is first tentative, an `upstream_unavailable`: see `refusalGraceMs`.)
   */
  async renewEarly(s: SessionData, nowSec: number): Promise<EarlyRenewal> {
    try {
      return { kind: 'renewed', session: await this.renew(s, nowSec) };
    } catch (err) {
      if (
        !(err instanceof SsoGuardError) ||
        err.code === 'refresh_rejected' ||
        this.lifecycle.policy.accessTokenExpired(s, nowSec)
      )
        throw err;
      debug('early refresh failed (%s); token still valid', err.code);
      return { kind: 'deferred', error: err };
    }
  }

  /** The check_token answer about a session's access token: cached, or asked (coalesced). */
  check(s: SessionData, hash = tokenHash(s.accessToken)): Promise<CacheEntry> {
    return this.cache.lookup(hash, s.accessToken, s.expiresAt * 1000);
  }

  /**
   * A recheck (skipping the cache), for callers whose temporary credentials expired. When the SSO
   * rejects the access token and the session has a refresh token, the session is renewed
   * (coalesced like any refresh) and `session`/`setCookie` carry the result.
   */
  async recheck(accessToken: string, session: SessionData | undefined, names: readonly string[]): Promise<Recheck> {
    const now = this.clock();
    const expiresAt = session === undefined ? now + this.unknownExpiryTtl * 1000 : session.expiresAt * 1000;
    const entry = await this.cache.lookup(tokenHash(accessToken), accessToken, expiresAt, { force: true });
    if (entry.kind === 'valid') return { result: entry.result };
    if (session?.refreshToken === undefined)
      throw new SsoGuardError('unauthenticated', 'Session expired; sign in again');
    const nowSec = Math.floor(now / 1000);
    const next = await this.renew(session, nowSec);
    const renewed = await this.check(next);
    if (renewed.kind !== 'valid') throw new SsoGuardError('unauthenticated', 'Session expired; sign in again');
    const outcome = this.lifecycle.settle(renewed.result, next, nowSec, names, { renewed: true, stale: false });
    return { result: renewed.result, session: outcome.session, setCookie: outcome.setCookie };
  }
}
