import type { NextFunction, Request, Response } from 'express';
import type { Outcome } from './authenticate';
import type { SsoGuardError } from './errors';
import type { SsoCredentials, SsoUser } from './sso-client';

/** Internal hooks of the `auth()` instance that set a context; not part of the public API. */
export interface GuardHooks {
  /** Answers an unauthenticated request (login redirect, 401 or the upstream error). */
  deny(req: Request, res: Response, next: NextFunction, mode?: 'auto' | 'redirect' | '401'): void;
  loginUrl(returnTo?: string): string;
}

/** @internal */
export const HOOKS = Symbol('express-sso-guard.hooks');

/**
 * What `auth()` puts on `req.sso`. Present on every request that went through `auth()`,
 * signed in or not.
 */
export class SsoContext {
  /** The user from check_token, when signed in. */
  readonly user: SsoUser | undefined;
  /** The temporary credentials of the signed-in identity (`accessKey`, `secretKey`, STS `token`). */
  readonly credentials: SsoCredentials | undefined;
  /**
   * Set when the SSO failed (unreachable, timeout, bad answer) while checking this request's
   * session: the session is kept, but this request is not authenticated. `requiresAuth()` answers
   * with it (502/503/504) instead of a login redirect.
   */
  readonly error: SsoGuardError | undefined;
  /** When the access token expires (ms since the epoch), for cookie sessions. */
  readonly expiresAt: number | undefined;
  /** @internal */
  readonly [HOOKS]: GuardHooks;
  /** @internal */
  readonly reason: Outcome['reason'];

  /** @internal */
  constructor(hooks: GuardHooks, outcome: Outcome) {
    this[HOOKS] = hooks;
    this.user = outcome.result?.user;
    this.credentials = outcome.result?.credentials;
    this.error = outcome.error;
    this.expiresAt = outcome.session === undefined ? undefined : outcome.session.e * 1000;
    this.reason = outcome.reason;
  }

  /** Whether the request carries a valid session (or Bearer token, when enabled). */
  isAuthenticated(): boolean {
    return this.user !== undefined;
  }

  /** The login URL (relative), optionally with a `returnTo` path. */
  loginUrl(returnTo?: string): string {
    return this[HOOKS].loginUrl(returnTo);
  }
}
