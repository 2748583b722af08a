import type { SsoGuardError } from '../errors';
import type { SessionData } from '../session/session-cookie';
import type { CheckResult } from '../sso/types';

/** The result of authenticating one request. Express-agnostic: the middleware applies it. */
export interface Outcome {
  /** The check_token answer when the request is authenticated. */
  readonly result: CheckResult | undefined;
  /** The session (possibly refreshed) when authenticated through the cookie. */
  readonly session: SessionData | undefined;
  /** The access token of a Bearer-authenticated request (cookie sessions carry theirs in `session`). */
  readonly bearerToken?: string;
  /**
   * Names of the session cookies the request carried (chunks included), as read once on the way
   * in: a later write or clear of the session cookie (renewal, revocation) overwrites exactly these.
   */
  readonly cookieNames: readonly string[];
  /** Set-Cookie lines to send (new session, cleared cookies), when anything changed. */
  readonly setCookie: string[] | undefined;
  /** An upstream failure: the session is kept, but the request cannot be authenticated now. */
  readonly error: SsoGuardError | undefined;
  /** Why an unauthenticated request is unauthenticated, for the 401 answer. */
  readonly reason: 'none' | 'ended' | 'invalid_token' | 'forbidden';
}

const NO_NAMES: readonly string[] = Object.freeze([]);

export const ANONYMOUS: Outcome = Object.freeze({
  result: undefined,
  session: undefined,
  cookieNames: NO_NAMES,
  setCookie: undefined,
  error: undefined,
  reason: 'none',
});

export function authenticated(
  result: CheckResult,
  session: SessionData | undefined,
  cookieNames: readonly string[],
  setCookie?: string[],
): Outcome {
  return { result, session, cookieNames, setCookie, error: undefined, reason: 'none' };
}

/** Signed out, clearing `setCookie` when given (cookies that did not open). */
export function anonymous(setCookie: string[] | undefined, cookieNames: readonly string[]): Outcome {
  return setCookie === undefined && cookieNames.length === 0 ? ANONYMOUS : { ...ANONYMOUS, cookieNames, setCookie };
}

/** An upstream failure: the session is kept (no Set-Cookie), this request fails. */
export function failed(error: SsoGuardError, cookieNames: readonly string[], setCookie?: string[]): Outcome {
  return { ...ANONYMOUS, cookieNames, setCookie, error };
}
