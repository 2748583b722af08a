import { inspect } from 'node:util';
import type { NextFunction, Request, Response } from 'express';
import type { Outcome } from '../auth/authenticate';
import type { CloudClient } from '../cloud/client';
import { SsoGuardError } from '../errors';
import type { SsoCredentials, SsoUser } from '../sso/types';

/** Internal hooks of the `auth()` instance that set a context; not part of the public API. */
export interface GuardHooks {
  /** Logs the context's session out everywhere and clears its cookie on the response. */
  revoke(ctx: GuardContext): Promise<void>;
  /** Builds the cloud API client of a context (throws when `cloud.apiBaseUrl` is not configured). */
  cloud(ctx: GuardContext): CloudClient;
  /** Answers an unauthenticated request (login redirect, 401 or the upstream error). */
  deny(req: Request, res: Response, next: NextFunction, mode?: 'auto' | 'redirect' | '401'): void;
  /** Answers a request with an error as the middleware renders its own (page, JSON or `next(err)`). */
  refuse(req: Request, res: Response, next: NextFunction, err: SsoGuardError, mode?: 'auto' | 'redirect' | '401'): void;
  loginUrl(returnTo?: string): string;
}

/**
 * What `auth()` puts on `req.sso`, on every request it sees, signed in or not.
 *
 * `user` and `credentials` are typed as always present, because the routes that read them sit
 * behind `requiresAuth()` (or `authRequired`). On a request that is not signed in they throw an
 * `SsoGuardError` (`code: 'unauthenticated'`, status 401) instead of returning `undefined`; routes
 * open to everyone ask `isAuthenticated()` first.
 *
 * Printing it (`console.log(req.sso)`, `util.inspect`, `JSON.stringify`) shows who is signed in,
 * never a token, key or secret.
 */
export interface SsoContext {
  /** The user from check_token (`user_id`, `user_name`, ...). Throws a 401 `SsoGuardError` when signed out. */
  readonly user: SsoUser;
  /** The temporary cloud credentials (`accessKey`, `secretKey`, STS `token`). Throws a 401 `SsoGuardError` when signed out. */
  readonly credentials: SsoCredentials;
  /** When the access token expires (ms since the epoch); undefined when signed out or signed in with a Bearer token. */
  readonly expiresAt: number | undefined;
  /**
   * Set when the SSO failed (unreachable, timeout, bad answer) while checking this request's
   * session: the session is kept, but this request is not authenticated. `requiresAuth()` answers
   * with it (502/503/504) instead of a login redirect.
   */
  readonly error: SsoGuardError | undefined;
  /**
   * Calls the cloud API as the signed-in user, signed with the temporary credentials:
   * `await req.sso.cloud.call('DescribeInstances', { zone: 'pek3', 'status.1': 'running' })`.
   * Expired credentials are renewed (check_token again, refreshing the session when needed)
   * and a call answered with HTTP 401 is retried once. Needs `cloud.apiBaseUrl` (or CLOUD_API_URL).
   */
  readonly cloud: CloudClient;
  /** Whether the request carries a valid session (or Bearer token, when enabled); then `error` is undefined. */
  isAuthenticated(): this is AuthenticatedSsoContext;
  /** The login URL (relative), optionally with a `returnTo` path. */
  loginUrl(returnTo?: string): string;
  /**
   * Ends this request's session: revoked on every instance (with a shared store) until it would
   * have expired, its cached check_token answer dropped, its cookie cleared on this response.
   * What `/logout` does, for apps with their own logout route. No SSO call (the SSO has no logout).
   */
  revokeSession(): Promise<void>;
}

/** `req.sso` once `isAuthenticated()` said yes. */
export interface AuthenticatedSsoContext extends SsoContext {
  readonly error: undefined;
}

function signedOut(): SsoGuardError {
  return new SsoGuardError(
    'unauthenticated',
    'Sign-in required (req.sso is not signed in; check req.sso.isAuthenticated() or use requiresAuth())',
  );
}

/**
 * The key of a context's hooks, shared by every copy of this module: `express-sso-guard/nest` is
 * bundled apart from the main entry, and a `#private` field can only be read by the class copy
 * that declared it, so the Nest guard reaches the hooks of a context the main entry made through a
 * method of that context's own class.
 */
const HOOKS: unique symbol = Symbol.for('express-sso-guard.context-hooks') as never;

/** @internal The object behind `req.sso`; only the middleware creates it and reads its internals. */
export class GuardContext implements SsoContext {
  readonly error: SsoGuardError | undefined;
  // Internals are truly private (#fields): not own keys, so a spread, Object.assign, a deep copy
  // of own keys or util.inspect without the custom inspector below never reaches a token or key.
  readonly #hooks: GuardHooks;
  #outcome: Outcome;
  readonly #req: Request;
  readonly #res: Response;
  #cloud: CloudClient | undefined;

  constructor(hooks: GuardHooks, outcome: Outcome, req: Request, res: Response) {
    this.#hooks = hooks;
    this.#outcome = outcome;
    this.#req = req;
    this.#res = res;
    this.#cloud = undefined;
    this.error = outcome.error;
  }

  // The middleware's access to the internals: static, so not on the instance's prototype either
  // (util.inspect with showHidden lists prototype accessors, and with `getters` calls them).
  /** The outcome a context was built from; replaced when credentials are renewed or the session revoked. */
  static outcome(ctx: GuardContext): Outcome {
    return ctx.#outcome;
  }
  static setOutcome(ctx: GuardContext, outcome: Outcome): void {
    ctx.#outcome = outcome;
  }
  static hooks(ctx: GuardContext): GuardHooks {
    return ctx[HOOKS]();
  }
  /** The hooks (deny, refuse, …: functions, no token), for any copy of this class; see {@link HOOKS}. */
  [HOOKS](): GuardHooks {
    return this.#hooks;
  }
  /** The request and response, for renewals that must write the session cookie. */
  static req(ctx: GuardContext): Request {
    return ctx.#req;
  }
  static res(ctx: GuardContext): Response {
    return ctx.#res;
  }

  get user(): SsoUser {
    const result = this.#outcome.result;
    if (result === undefined) throw signedOut();
    return result.user;
  }

  get credentials(): SsoCredentials {
    const result = this.#outcome.result;
    if (result === undefined) throw signedOut();
    return result.credentials;
  }

  get expiresAt(): number | undefined {
    const { result, session } = this.#outcome;
    return result === undefined || session === undefined ? undefined : session.expiresAt * 1000;
  }

  get cloud(): CloudClient {
    this.#cloud ??= this.#hooks.cloud(this);
    return this.#cloud;
  }

  revokeSession(): Promise<void> {
    return this.#hooks.revoke(this);
  }

  isAuthenticated(): this is AuthenticatedSsoContext {
    return this.#outcome.result !== undefined;
  }

  loginUrl(returnTo?: string): string {
    return this.#hooks.loginUrl(returnTo);
  }

  /** What `JSON.stringify(req.sso)` writes: who is signed in, never a token, key or secret. */
  toJSON(): {
    authenticated: boolean;
    user?: { user_id: string; user_name?: string };
    expiresAt?: number;
    error?: string;
  } {
    const result = this.#outcome.result;
    if (result === undefined)
      return this.error === undefined ? { authenticated: false } : { authenticated: false, error: this.error.code };
    const { user_id, user_name } = result.user;
    return {
      authenticated: true,
      user: user_name === undefined ? { user_id } : { user_id, user_name },
      expiresAt: this.expiresAt,
    };
  }

  /** What `console.log(req.sso)` and `util.inspect(req.sso)` show: the same as `toJSON()`. */
  [inspect.custom](depth: number, options: { stylize?: unknown }, inspectFn: typeof inspect = inspect): string {
    return `SsoContext ${inspectFn(this.toJSON(), { ...(options as object), depth: 2 })}`;
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
