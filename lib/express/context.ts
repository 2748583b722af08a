import type { NextFunction, Request, Response } from 'express';
import type { Outcome } from '../auth/authenticate';
import type { CloudClient } from '../cloud/client';
import type { SsoGuardError } from '../errors';
import type { SsoCredentials, SsoUser } from '../sso/sso-client';

/** Internal hooks of the `auth()` instance that set a context; not part of the public API. */
export interface GuardHooks {
  /** Logs the context's session out everywhere and clears its cookie on the response. */
  revoke(ctx: SsoContext): Promise<void>;
  /** Builds the cloud API client of a context (throws when `cloud.apiBaseUrl` is not configured). */
  cloud(ctx: SsoContext): CloudClient;
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

  /**
   * Set when the SSO failed (unreachable, timeout, bad answer) while checking this request's
   * session: the session is kept, but this request is not authenticated. `requiresAuth()` answers
   * with it (502/503/504) instead of a login redirect.
   */
  readonly error: SsoGuardError | undefined;
  /** @internal */
  readonly [HOOKS]: GuardHooks;
  /** @internal */
  readonly reason: Outcome['reason'];
  /** @internal The outcome this context was built from; replaced when credentials are renewed. */
  outcome: Outcome;
  /** @internal The request and response, for renewals that must write the session cookie. */
  readonly req: Request;
  /** @internal */
  readonly res: Response;
  private cloudClient: CloudClient | undefined;

  /** @internal */
  constructor(hooks: GuardHooks, outcome: Outcome, req: Request, res: Response) {
    this[HOOKS] = hooks;
    this.outcome = outcome;
    this.req = req;
    this.res = res;
    this.error = outcome.error;
    this.reason = outcome.reason;
  }

  /** The user from check_token, when signed in. */
  get user(): SsoUser | undefined {
    return this.outcome.result?.user;
  }

  /** The temporary credentials of the signed-in identity (`accessKey`, `secretKey`, STS `token`). */
  get credentials(): SsoCredentials | undefined {
    return this.outcome.result?.credentials;
  }

  /** When the access token expires (ms since the epoch), for cookie sessions. */
  get expiresAt(): number | undefined {
    return this.outcome.session === undefined ? undefined : this.outcome.session.expiresAt * 1000;
  }

  /**
   * Calls the cloud API as the signed-in user, signed with the temporary credentials:
   * `await req.sso.cloud.call('DescribeInstances', { zone: 'pek3', 'status.1': 'running' })`.
   * Expired credentials are renewed (check_token again, refreshing the session when needed)
   * and a call answered with HTTP 401 is retried once. Needs `cloud.apiBaseUrl` (or CLOUD_API_URL).
   */
  get cloud(): CloudClient {
    this.cloudClient ??= this[HOOKS].cloud(this);
    return this.cloudClient;
  }

  /**
   * Ends this request's session: revoked on every instance (with a shared store) until it would
   * have expired, its cached check_token answer dropped, its cookie cleared on this response.
   * What `/logout` does, for apps with their own logout route. No SSO call (the SSO has no logout).
   */
  revokeSession(): Promise<void> {
    return this[HOOKS].revoke(this);
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

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** The signed-in user (`req.user`), the check_token `user`. Merges with other packages' `User`. */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends SsoUser {}
    interface Request {
      /** Set by express-sso-guard's `auth()` on every request it sees. */
      sso: SsoContext;
      /** The signed-in user, as set by `auth()` (the Express convention). */
      user?: User;
    }
  }
}
