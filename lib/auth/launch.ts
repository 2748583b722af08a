import createDebug from 'debug';
import type { CheckResult, SsoUser } from '../sso/types';
import { Sealer, jwtExpiry, safeEqual } from '../util/crypto';
import type { Authenticator } from './authenticate';
import type { LaunchEntry, LaunchRequest, LaunchTokens } from './launch-request';
import type { Outcome } from './outcome';
import { sessionFromTokens, type SessionTokens } from './session-from-tokens';
import type { SessionLifecycle } from './session-lifecycle';

const debug = createDebug('express-sso-guard:launch');

/** How long the account-switch confirmation can be used (ms). */
export const CONFIRM_TTL_MS = 5 * 60_000;
/** Authenticated with the sealed confirmation: it opens nowhere else. */
const CONFIRM_CONTEXT = 'launch-confirm';

/** What launches work with. */
export interface LauncherParts {
  readonly authenticator: Authenticator;
  readonly lifecycle: SessionLifecycle;
  readonly clock: () => number;
  /** The session secrets (`secret`): the confirmation is sealed with a key of its own derived from them. */
  readonly secrets: readonly string[];
  /** The `authorize` option. */
  readonly authorize: ((user: SsoUser, req: unknown) => boolean | Promise<boolean>) | undefined;
  /**
   * `session.absoluteDuration` (seconds): the lifetime given to an opaque access token, whose
   * expiry only check_token knows (it refuses the token once expired).
   */
  readonly unknownExpiry: number;
}

/**
 * What to do with a launch (`target`: where the browser goes next, without tokens):
 * - `sign-in`: no usable token; start a normal sign-in towards `target`, no session made;
 * - `forbidden`: `authorize` refused the launch's user;
 * - `go`: signed in (a new session, the same user, or adopted newer tokens): write `setCookie`;
 * - `confirm`: signed in as `current`, the launch is `next`: ask first, posting `sealed` back;
 * - `refused`: a confirmation that is forged, expired or meant for another session.
 * Upstream failures are thrown as SsoGuardErrors (502/503/504; no session, tokens nowhere).
 */
export type LaunchDecision =
  | { readonly kind: 'sign-in'; readonly target: string }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'go'; readonly target: string; readonly setCookie: string[] | undefined }
  | {
      readonly kind: 'confirm';
      readonly current: SsoUser;
      readonly next: SsoUser;
      readonly sealed: string;
      readonly target: string;
    }
  | { readonly kind: 'refused'; readonly why: string };

/** The sealed content of a confirmation: short keys, it travels in a form field. */
interface Pending {
  /** access token, refresh token */
  a: string;
  r?: string;
  /** the launch's user id: the tokens must still be that user's */
  u: string;
  /** the session the page was shown to: another browser's session cannot use it */
  s: string;
  /** target, entry, expiry (ms) */
  t: string;
  k: LaunchEntry;
  e: number;
}

type Valid = { readonly kind: 'valid'; readonly result: CheckResult; readonly expiresIn: number };
type Verified = Valid | { readonly kind: 'invalid' } | { readonly kind: 'forbidden' };

/**
 * Launches from the AppCenter console and the SaaS redirect, framework-agnostic: a launch's tokens
 * are checked through the check_token cache (and `authorize`), then become a session exactly as a
 * callback's do (`sessionFromTokens`). A launch as another user than the signed-in one is never
 * taken silently (a link carrying someone else's token would be a login CSRF): it is sealed into a
 * confirmation bound to the current session, which a same-origin POST brings back.
 */
export class Launcher {
  private readonly sealer: Sealer;

  constructor(private readonly parts: LauncherParts) {
    this.sealer = new Sealer(parts.secrets, 'launch');
  }

  /** Decides a launch GET. `cookieHeader`: the request's Cookie header; `req` goes to `authorize`. */
  async launch(
    launch: LaunchRequest,
    target: string,
    cookieHeader: string | undefined,
    req: unknown,
  ): Promise<LaunchDecision> {
    const { tokens } = launch;
    if (tokens === undefined) {
      debug('launch without a usable token: sign-in');
      return { kind: 'sign-in', target };
    }
    const verified = await this.verify(tokens, req);
    if (verified.kind === 'invalid') {
      debug('launch token refused by check_token: sign-in');
      return { kind: 'sign-in', target };
    }
    if (verified.kind === 'forbidden') return { kind: 'forbidden' };
    const current = await this.parts.authenticator.run(cookieHeader, undefined, req);
    if (current.error !== undefined) throw current.error;
    const next = verified.result.user;
    if (current.result === undefined || current.session === undefined)
      return this.start(tokens, verified, launch.entry, current, target);
    if (current.result.user.user_id === next.user_id) return this.same(tokens, verified, current, target);
    debug('launch as another user than the signed-in one: confirmation asked');
    const pending: Pending = {
      a: tokens.accessToken,
      ...(tokens.refreshToken === undefined ? {} : { r: tokens.refreshToken }),
      u: next.user_id,
      s: current.session.id,
      t: target,
      k: launch.entry,
      e: this.parts.clock() + CONFIRM_TTL_MS,
    };
    return {
      kind: 'confirm',
      current: current.result.user,
      next,
      sealed: this.sealer.seal(JSON.stringify(pending), CONFIRM_CONTEXT),
      target,
    };
  }

  /**
   * The confirmation page of a sealed launch (`sealed`: kept in a cookie while the browser leaves
   * the URL that carried the tokens): `confirm` again, with both accounts as they are now.
   */
  async view(sealed: string, cookieHeader: string | undefined, req: unknown): Promise<LaunchDecision> {
    const opened = await this.reopen(sealed, cookieHeader, req);
    if ('kind' in opened) return opened;
    const { current, verified, pending } = opened;
    return { kind: 'confirm', current: current.result!.user, next: verified.result.user, sealed, target: pending.t };
  }

  /** Decides the confirmation's POST (`sealed`: the form field); the caller checked it is same-origin. */
  async confirm(sealed: string, cookieHeader: string | undefined, req: unknown): Promise<LaunchDecision> {
    const opened = await this.reopen(sealed, cookieHeader, req);
    if ('kind' in opened) return opened;
    const { current, verified, pending } = opened;
    await this.parts.lifecycle.revoke(current.session!);
    debug('account switch confirmed: previous session logged out');
    const tokens: LaunchTokens = { accessToken: pending.a, refreshToken: pending.r };
    return this.start(tokens, verified, pending.k, current, pending.t);
  }

  /**
   * Opens a confirmation and checks it still stands: not expired, shown to the session the request
   * carries, the tokens still valid and still the pending user's.
   */
  private async reopen(
    sealed: string,
    cookieHeader: string | undefined,
    req: unknown,
  ): Promise<LaunchDecision | { pending: Pending; current: Outcome; verified: Valid }> {
    const pending = this.open(sealed);
    if (pending === undefined) return { kind: 'refused', why: 'forged or expired' };
    const current = await this.parts.authenticator.run(cookieHeader, undefined, req);
    if (current.error !== undefined) throw current.error;
    if (current.result === undefined || current.session === undefined || !safeEqual(current.session.id, pending.s))
      return { kind: 'refused', why: 'shown to another session' };
    const verified = await this.verify({ accessToken: pending.a, refreshToken: pending.r }, req);
    if (verified.kind === 'invalid') return { kind: 'sign-in', target: pending.t };
    if (verified.kind === 'forbidden') return { kind: 'forbidden' };
    if (verified.result.user.user_id !== pending.u) return { kind: 'refused', why: 'the tokens changed hands' };
    return { pending, current, verified };
  }

  private open(sealed: string): Pending | undefined {
    const text = this.sealer.open(sealed, CONFIRM_CONTEXT);
    if (text === undefined) return undefined;
    const p = JSON.parse(text) as Pending;
    return p.e > this.parts.clock() ? p : undefined;
  }

  /**
   * check_token (through the cache) and `authorize` for a launch's tokens. A JWT's `exp` is its
   * expiry (an expired one is invalid without asking); an opaque token's is unknown.
   */
  private async verify(tokens: LaunchTokens, req: unknown): Promise<Verified> {
    const now = this.parts.clock();
    const exp = jwtExpiry(tokens.accessToken);
    const expiresIn = exp === undefined ? this.parts.unknownExpiry : exp - Math.floor(now / 1000);
    if (expiresIn <= 0) return { kind: 'invalid' };
    const entry = await this.parts.authenticator.checkToken(tokens.accessToken, now + expiresIn * 1000);
    if (entry.kind !== 'valid') return { kind: 'invalid' };
    const { authorize } = this.parts;
    if (authorize !== undefined && (await authorize(entry.result.user, req)) !== true) {
      debug('launch refused by authorize');
      return { kind: 'forbidden' };
    }
    return { kind: 'valid', result: entry.result, expiresIn };
  }

  /** A new session from the launch's tokens: the one way sessions are made (cookie or server-side, `login` event). */
  private async start(
    tokens: LaunchTokens,
    verified: Valid,
    entry: LaunchEntry,
    current: Outcome,
    target: string,
  ): Promise<LaunchDecision> {
    const started = sessionFromTokens(this.parts.lifecycle, this.sessionTokens(tokens, verified), {
      entry,
      now: this.parts.clock(),
      previous: current.cookieNames,
      user: verified.result.user,
    });
    await started.commit();
    debug('launch: session started (%s)', entry);
    return { kind: 'go', target, setCookie: started.setCookie };
  }

  /**
   * Signed in as the launch's user already: the session goes on, adopting the launch's tokens when
   * they are newer (they expire later, and do not drop the session's refresh token).
   */
  private async same(tokens: LaunchTokens, verified: Valid, current: Outcome, target: string): Promise<LaunchDecision> {
    const s = current.session!;
    const now = this.parts.clock();
    const nowSec = Math.floor(now / 1000);
    const newer =
      tokens.accessToken !== s.accessToken &&
      (tokens.refreshToken !== undefined || s.refreshToken === undefined) &&
      nowSec + verified.expiresIn > s.expiresAt;
    if (!newer) return { kind: 'go', target, setCookie: current.setCookie };
    const renewed = sessionFromTokens(this.parts.lifecycle, this.sessionTokens(tokens, verified), {
      entry: 'refresh',
      now,
      issuedAt: now,
      renews: s,
    });
    await renewed.commit();
    const settled = this.parts.lifecycle.settle(verified.result, renewed.session, nowSec, current.cookieNames, {
      renewed: true,
      stale: false,
    });
    debug('launch as the signed-in user: newer tokens adopted');
    return { kind: 'go', target, setCookie: settled.setCookie };
  }

  private sessionTokens(tokens: LaunchTokens, verified: Valid): SessionTokens {
    return {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      tokenType: 'Bearer',
      expiresIn: verified.expiresIn,
    };
  }
}
