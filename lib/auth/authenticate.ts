import createDebug from 'debug';
import { SsoGuardError } from '../errors';
import type { CacheEntry, CheckTokenCache } from '../sso/check-token-cache';
import type { SessionCookie, SessionData, SessionPointer, SessionRead } from '../session/session-cookie';
import type { StoredTokens } from '../session/server-sessions';
import { tokenHash } from '../util/crypto';
import type { CredentialRenewal } from './credential-renewal';
import { anonymous, authenticated, failed, ANONYMOUS, type Outcome } from './outcome';
import type { SessionLifecycle } from './session-lifecycle';
import type { RewriteCause } from './session-policy';
import type { BearerAuthorizer } from './bearer-authorize';
import type { CheckResult } from '../sso/types';

export type { Outcome } from './outcome';

const debug = createDebug('express-sso-guard:session');

/** Rewrite causes of the hot path, shared rather than built per request. */
const UNCHANGED: RewriteCause = Object.freeze({ renewed: false, stale: false });
const STALE: RewriteCause = Object.freeze({ renewed: false, stale: true });

/** What request authentication reads of the configuration. */
export interface AuthenticatorOptions {
  readonly clock: () => number;
  /** Accept `Authorization: Bearer` (option `bearer`). */
  readonly bearer: boolean;
  /** How long a Bearer token's answer is kept at most (`cache.ttl`, seconds). */
  readonly bearerTtl: number;
  /** The `authorize` option for Bearer tokens, when set. */
  readonly authorizer: BearerAuthorizer | undefined;
}

/** The options and parts request authentication works with. */
export interface AuthenticatorParts {
  readonly options: AuthenticatorOptions;
  readonly cookies: SessionCookie;
  readonly cache: CheckTokenCache;
  readonly renewal: CredentialRenewal;
  readonly lifecycle: SessionLifecycle;
}

/**
 * Request authentication: turns a request's session cookie (or Bearer token) into an
 * {@link Outcome}. Returns synchronously on the hot path (valid cookie, cached check_token,
 * nothing to write); a Promise otherwise. Renewal and the session's lifecycle (cookie writes,
 * revocation, server-side tokens) are delegated; see the glossary in session-policy.ts.
 */
export class Authenticator {
  /**
   * Access-token hash of each session object the cookie reader handed out. It keeps opened
   * sessions (the same frozen object for the same cookie), so the hash of a returning cookie is
   * computed once, not on every request; entries go when their session object does.
   */
  private readonly hashes = new WeakMap<SessionData, string>();
  /**
   * With server-side sessions: the session made of a first-level tokens object and the cookie's
   * pointer, kept with the tokens object, so a returning request gets the same session object
   * (and with it the remembered hash and outcome) instead of a new one per request.
   */
  private readonly joined = new WeakMap<StoredTokens, { pointer: SessionPointer; session: SessionData }>();

  private readonly options: AuthenticatorOptions;
  private readonly cookies: SessionCookie;
  private readonly cache: CheckTokenCache;
  private readonly renewal: CredentialRenewal;
  private readonly lifecycle: SessionLifecycle;

  constructor(parts: AuthenticatorParts) {
    this.options = parts.options;
    this.cookies = parts.cookies;
    this.cache = parts.cache;
    this.renewal = parts.renewal;
    this.lifecycle = parts.lifecycle;
  }

  run(cookieHeader: string | undefined, authorization: string | undefined, req?: unknown): Outcome | Promise<Outcome> {
    const now = this.options.clock();
    const read = this.cookies.read(cookieHeader);
    if (read.data !== undefined) return this.check(read.data, read, now);
    if (read.pointer !== undefined) {
      const tokens = this.lifecycle.peekTokens(read.pointer, now);
      if (tokens === undefined) return this.loadServerSession(read, now);
      return this.check(this.join(tokens, read.pointer), read, now);
    }
    const clear = read.names.length > 0 ? this.cookies.clear(read.names) : undefined;
    if (authorization !== undefined && this.options.bearer)
      return this.bearer(authorization, now, read.names, clear, req);
    return anonymous(clear, read.names);
  }

  /** The session of a server-side pointer and its tokens, the same object while both are unchanged. */
  private join(tokens: StoredTokens, pointer: SessionPointer): SessionData {
    const known = this.joined.get(tokens);
    if (known !== undefined && known.pointer === pointer) return known.session;
    const session: SessionData = Object.freeze({ ...tokens, ...pointer });
    this.joined.set(tokens, { pointer, session });
    return session;
  }

  /** A server-side session missing from the first level: its tokens from the store, then on. */
  private async loadServerSession(read: SessionRead, now: number): Promise<Outcome> {
    const pointer = read.pointer!;
    let tokens;
    try {
      tokens = await this.lifecycle.loadTokens(pointer, now);
    } catch (err) {
      if (err instanceof SsoGuardError) return failed(err, read.names);
      throw err;
    }
    if (tokens === undefined) return this.lifecycle.end(read.names, 'server-side session not found', 'not_found');
    return this.check({ ...tokens, ...pointer }, read, now);
  }

  /** The session's lifetimes, revocation, cached check and refresh, once the session is known. */
  private check(s: SessionData, read: SessionRead, now: number): Outcome | Promise<Outcome> {
    const nowSec = Math.floor(now / 1000);
    const { policy } = this.lifecycle;
    if (policy.lifetimeOver(s, nowSec)) return this.lifecycle.end(read.names, 'session lifetime over', 'lifetime');
    if (this.lifecycle.revokedHere(s, now)) return this.lifecycle.end(read.names, 'session was logged out', 'revoked');
    let hash = this.hashes.get(s);
    if (hash === undefined) {
      hash = tokenHash(s.accessToken);
      this.hashes.set(s, hash);
    }
    const entry = this.cache.peek(hash, now);
    const refreshDue = policy.refreshDue(s, nowSec);
    if (entry?.kind === 'valid' && this.lifecycle.userRevokedHere(entry.result.user, s))
      return this.userEnded(read.names, entry.result.user);
    if (!refreshDue && entry?.kind === 'valid')
      return this.lifecycle.settle(entry.result, s, nowSec, read.names, read.stale ? STALE : UNCHANGED);
    return this.slow(s, hash, entry, read, nowSec, refreshDue);
  }

  /** Off the hot path: the store's revocations, renewal when due or when check_token rejects, a check. */
  private async slow(
    s: SessionData,
    hash: string,
    entry: CacheEntry | undefined,
    read: SessionRead,
    nowSec: number,
    refreshDue: boolean,
  ): Promise<Outcome> {
    const { names } = read;
    let session = s;
    let renewed = false;
    /** An early refresh that failed upstream: not retried within this request. */
    let deferred: SsoGuardError | undefined;
    /** The first level missed: a `revokeUser()` on another instance may be known only to the store. */
    const askStore = entry === undefined;
    try {
      // First level missed: a logout on another instance may be known only to the store.
      if (await this.lifecycle.revokedElsewhere(s))
        return this.lifecycle.end(names, 'session was logged out (shared)', 'revoked');
      if (refreshDue && s.refreshToken === undefined) {
        if (this.lifecycle.policy.accessTokenExpired(s, nowSec))
          return this.lifecycle.end(names, 'access token expired and no refresh token', 'expired');
      } else if (refreshDue) {
        const early = await this.renewal.renewEarly(s, nowSec);
        if (early.kind === 'renewed') [session, renewed] = [early.session, true];
        else deferred = early.error;
      }
      if (renewed || entry === undefined) entry = await this.renewal.check(session, renewed ? undefined : hash);
      if (entry.kind === 'invalid' && !renewed && session.refreshToken !== undefined) {
        // One refresh attempt per request: a second would double the wait on a failing SSO.
        if (deferred !== undefined) throw deferred;
        debug('check_token rejected the access token: refreshing');
        [session, renewed] = [await this.renewal.renew(session, nowSec), true];
        entry = await this.renewal.check(session);
      }
      if (entry.kind !== 'valid') return this.lifecycle.end(names, 'access token rejected', 'refused');
      const { user } = entry.result;
      if (askStore ? await this.lifecycle.userRevokedElsewhere(user, s) : this.lifecycle.userRevokedHere(user, s))
        return this.userEnded(names, user);
      return this.lifecycle.settle(entry.result, session, nowSec, names, { renewed, stale: read.stale });
    } catch (err) {
      if (err instanceof SsoGuardError) {
        if (err.code === 'refresh_rejected') return this.lifecycle.end(names, 'refresh token rejected', 'refused');
        debug('upstream failure, session kept: %s', err.code);
        return failed(err, names);
      }
      throw err;
    }
  }

  /** Ends a session signed in before a `revokeUser()` of its user. */
  private userEnded(names: readonly string[], user: CheckResult['user']): Outcome {
    return this.lifecycle.end(names, 'user revoked', 'user_revoked', user.user_id);
  }

  private bearer(
    authorization: string,
    now: number,
    names: readonly string[],
    clear: string[] | undefined,
    req: unknown,
  ): Outcome | Promise<Outcome> {
    if (authorization.length < 8 || authorization.length > 8192 || !/^bearer /i.test(authorization))
      return anonymous(clear, names);
    const token = authorization.slice(7).trim();
    const hash = tokenHash(token);
    const hit = this.cache.peek(hash, now);
    const done = (entry: CacheEntry): Outcome =>
      entry.kind === 'valid'
        ? { ...authenticated(entry.result, undefined, names, clear), bearerToken: token }
        : { ...ANONYMOUS, cookieNames: names, setCookie: clear, reason: 'invalid_token' };
    const { authorizer } = this.options;
    const forbidden = (): Outcome => ({ ...ANONYMOUS, cookieNames: names, setCookie: clear, reason: 'forbidden' });
    if (hit !== undefined) return authorizer?.refused(hash, now) === true ? forbidden() : done(hit);
    const decide = authorizer === undefined ? done : authorizer.gate(hash, req, done, forbidden);
    return this.cache
      .lookup(hash, token, now + this.options.bearerTtl * 1000, { bearer: true })
      .then(decide, (err: unknown) => {
        if (err instanceof SsoGuardError) return failed(err, names, clear);
        throw err;
      });
  }

  /**
   * check_token of a token handed over by a launch (or issued at sign-in), through the cache:
   * `invalid` when the SSO refuses it; an SsoGuardError when the SSO cannot answer.
   */
  checkToken(accessToken: string, expiresAt: number): Promise<CacheEntry> {
    return this.cache.lookup(tokenHash(accessToken), accessToken, expiresAt);
  }

  /**
   * The check_token answer of a session's new access token at sign-in (cached, so the first page
   * makes no call of its own), for `authorize` and the `login` event. Throws an SsoGuardError.
   */
  async signInCheck(accessToken: string, expiresAt: number): Promise<CheckResult> {
    const entry = await this.checkToken(accessToken, expiresAt);
    if (entry.kind !== 'valid')
      throw new SsoGuardError('upstream_error', 'The SSO did not accept the access token it just issued');
    return entry.result;
  }
}
