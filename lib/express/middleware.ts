import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { pageSettings } from './send-page';
import type { Outcome } from '../auth/authenticate';
import { GuardContext, type GuardHooks } from './context';
import { appendSetCookie } from '../session/cookies';
import { createCore } from '../instance';
import { SsoGuardError } from '../errors';
import type { RequiresAuthOptions, SsoGuardOptions } from '../options';
import type { StoreStats } from '../store/shared-store';
import type { SsoCredentials } from '../sso/types';
import { isNavigation, redirect, sendError } from './respond';
import { callback, clearSiteCache, login, logout } from './routes';
import { launchRoute } from './launch';
import { isPublicPath } from './public-path';
import { requestPaths, routePath } from './base-path';

/** Hosts where plain http stays on the machine. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Warns once, at construction, when the SSO is reached over plain http on another host: the client
 * secret, codes and tokens would travel in clear. Not refused (a private network may be intended).
 */
function warnInsecureSso(ssoBaseUrl: string): void {
  const url = new URL(ssoBaseUrl);
  if (url.protocol !== 'http:' || LOOPBACK.has(url.hostname)) return;
  process.emitWarning(
    `express-sso-guard: "ssoBaseUrl" uses http:// on ${url.host}: the client secret, codes and tokens travel in clear. Use https://.`,
    {
      code: 'SSO_GUARD_INSECURE_SSO_URL',
    },
  );
}

/** How a failure is answered. */
interface FailOptions {
  /** Add `error="invalid_token"` to WWW-Authenticate (a Bearer token the SSO refused). */
  readonly invalidToken?: boolean;
  /** Answer JSON whatever the request accepts (APIs, `requiresAuth({ mode: '401' })`, logout). */
  readonly json?: boolean;
}

/** Warns once, through the logger, when the cloud API is reached over plain http on another host (keys and STS tokens sign its calls). */
function warnInsecureApi(apiBaseUrl: string | undefined, warn: (message: string) => void): void {
  if (apiBaseUrl === undefined) return;
  const url = new URL(apiBaseUrl);
  if (url.protocol !== 'http:' || LOOPBACK.has(url.hostname)) return;
  warn(
    `express-sso-guard: the cloud API (${url.origin}) is reached over http://: signed calls and their STS tokens travel in clear. Use https://.`,
  );
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/**
 * The express-sso-guard middleware: serves `/login`, `/callback` and `/logout`, reads the session
 * cookie on every other request, sets `req.sso` (and `req.user`), refreshes tokens when due, and,
 * with `authRequired` (the default), answers signed-out requests with a login redirect (pages) or
 * a 401 (APIs). Mount it at the app root: `app.use(auth({ ... }))`.
 *
 * Options are validated here, once; a bad option throws an `SsoGuardError` with code
 * `invalid_option` naming it.
 */
export function auth(options?: SsoGuardOptions): SsoGuardMiddleware {
  const core = createCore(options);
  const pages = pageSettings(core);
  const { config } = core;
  warnInsecureSso(config.ssoBaseUrl);
  warnInsecureApi(config.cloud.apiBaseUrl, (m) => core.telemetry.log.warn(m));
  const { login: loginRoute, callback: callbackRoute, logout: logoutRoute } = config.routes;
  const realm = config.appOrigin;
  const noStore = config.noStore;

  /**
   * Answers a failure (or hands it to `next` with `renderErrors: false`): `json` for a JSON body
   * whatever the request accepts, `invalidToken` for `error="invalid_token"` in WWW-Authenticate.
   */
  function fail(req: Request, res: Response, next: NextFunction, err: SsoGuardError, how: FailOptions = {}): void {
    const { invalidToken = false, json = false } = how;
    if (config.renderErrors)
      sendError(req, res, err, pages, {
        realm,
        invalidToken,
        json,
        loginUrl: err.status === 400 ? core.loginPath : undefined,
      });
    else next(err);
  }

  const hooks: GuardHooks = {
    deny(req, res, next, mode = 'auto') {
      const ctx = req.sso as GuardContext;
      const json = mode === '401';
      const reason = GuardContext.outcome(ctx).reason;
      if (ctx.error !== undefined) return fail(req, res, next, ctx.error, { json });
      if (reason === 'forbidden')
        return hooks.refuse(
          req,
          res,
          next,
          new SsoGuardError('forbidden', 'This account may not use this application'),
          mode,
        );
      if (mode === 'redirect' || (mode === 'auto' && isNavigation(req)))
        return redirect(res, hooks.loginUrl(launch?.strip(req) ?? requestPaths(req, config.basePath).external));
      const message = reason === 'ended' ? 'Session expired; sign in again' : 'Sign-in required';
      fail(req, res, next, new SsoGuardError('unauthenticated', message), {
        invalidToken: reason === 'invalid_token',
        json,
      });
    },
    refuse(req, res, next, err, mode = 'auto') {
      fail(req, res, next, err, { json: mode === '401' });
    },
    cloud(ctx) {
      if (core.cloud === undefined)
        throw new SsoGuardError(
          'invalid_option',
          '"cloud.apiBaseUrl" (or CLOUD_API_URL) must be set to use req.sso.cloud',
        );
      return core.cloud((opts) => credentialsFor(ctx, opts.forceRefresh));
    },
    async revoke(ctx) {
      const session = GuardContext.outcome(ctx).session;
      if (session === undefined) return;
      await core.lifecycle.revoke(session);
      clearSiteCache(GuardContext.res(ctx));
      appendSetCookie(GuardContext.res(ctx), core.sessions.clear(GuardContext.outcome(ctx).cookieNames));
      GuardContext.setOutcome(ctx, {
        ...GuardContext.outcome(ctx),
        result: undefined,
        session: undefined,
        reason: 'ended',
      });
    },
    loginUrl(returnTo) {
      return returnTo === undefined ? core.loginPath : `${core.loginPath}?returnTo=${encodeURIComponent(returnTo)}`;
    },
  };

  const launch = config.launch ? launchRoute(core, (returnTo) => hooks.loginUrl(returnTo)) : undefined;

  /** The context's credentials; fresh ones (renewing the session if needed) when forced. */
  async function credentialsFor(ctx: GuardContext, forceRefresh: boolean): Promise<SsoCredentials> {
    const current = GuardContext.outcome(ctx);
    if (current.result === undefined) throw new SsoGuardError('unauthenticated', 'Sign-in required');
    if (!forceRefresh) return current.result.credentials;
    const token = current.session?.accessToken ?? current.bearerToken;
    if (token === undefined) throw new SsoGuardError('unauthenticated', 'Sign-in required');
    const names = current.session === undefined ? [] : current.cookieNames;
    const fresh = await core.renewal.recheck(token, current.session, names);
    if (fresh.setCookie !== undefined) appendSetCookie(GuardContext.res(ctx), fresh.setCookie);
    GuardContext.setOutcome(ctx, { ...current, result: fresh.result, session: fresh.session ?? current.session });
    return fresh.result.credentials;
  }

  const isPublic = (path: string): boolean => isPublicPath(path, config.publicPaths, config.publicPrefixes);

  function proceed(req: Request, res: Response, next: NextFunction, path: string, outcome: Outcome): void {
    if (outcome.setCookie !== undefined) appendSetCookie(res, outcome.setCookie);
    const ctx = new GuardContext(hooks, outcome, req, res);
    req.sso = ctx;
    if (outcome.result !== undefined) {
      // A signed-in page must not come back from the HTTP cache after sign-out (Back button).
      if (noStore) res.setHeader('cache-control', 'no-store');
      req.user = outcome.result.user;
      return next();
    }
    if (!config.authRequired || isPublic(path)) return next();
    hooks.deny(req, res, next);
  }

  function ssoGuard(req: Request, res: Response, next: NextFunction): void {
    const path = routePath(req, config.basePath);
    const method = req.method;
    if (path === loginRoute && (method === 'GET' || method === 'HEAD')) return login(core, req, res);
    if (path === callbackRoute && method === 'GET') {
      callback(core, req, res, (err) => fail(req, res, next, err)).catch(next);
      return;
    }
    if (path === logoutRoute && (method === 'GET' || method === 'POST')) {
      logout(core, req, res, (err) => fail(req, res, next, err, { json: true })).catch(next);
      return;
    }
    const launched = launch?.read(req, path);
    if (launched !== undefined) {
      launch!.handle(req, res, launched, (err) => fail(req, res, next, err)).catch(next);
      return;
    }

    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = core.authenticator.run(req.headers.cookie, req.headers.authorization, req);
    } catch (err) {
      return next(err);
    }
    if (isPromise(outcome)) outcome.then((o) => proceed(req, res, next, path, o), next);
    else proceed(req, res, next, path, outcome);
  }

  return Object.defineProperties(ssoGuard, {
    ready: { value: core.ready },
    storeStats: { get: () => core.shared?.stats },
    revokeUser: { value: (userId: string) => core.lifecycle.revokeUser(userId) },
    close: { value: async () => core.shared?.close() },
  }) as SsoGuardMiddleware;
}

/** What `auth()` returns: the middleware, plus a handle on its shared store. */
export interface SsoGuardMiddleware extends RequestHandler {
  /** Resolves once the instance listens to its store's events (at once without a store). */
  readonly ready: Promise<void>;
  /** Health counters of the shared store (`available`, `failures`, `fallbacks`, `queued`, `dropped`); undefined without one. */
  readonly storeStats: StoreStats | undefined;
  /**
   * Ends every session of a user signed in until now (`userId`: check_token's `user.user_id`):
   * their next request is refused (login redirect or 401, cookie cleared, `sessionEnd` with
   * reason `user_revoked`); a new sign-in works. With a store, on every instance sharing it,
   * including instances started later (kept in the store for `session.absoluteDuration`; queued
   * and retried while the store is unreachable); without one, in this process only. Rejects
   * `invalid_option` for a `userId` that is not a non-empty string.
   */
  revokeUser(userId: string): Promise<void>;
  /**
   * Stops listening to the store's events and retrying writes queued during a store outage (after
   * one last attempt). The Redis client the app passed in stays open.
   */
  close(): Promise<void>;
}

/**
 * Protects one route (use with `auth({ authRequired: false })`): signed-out navigations are
 * redirected to login, other requests get 401 JSON with `WWW-Authenticate`; an SSO outage gives
 * 502/503/504. Requires `auth()` to be mounted before it.
 */
export function requiresAuth(options: RequiresAuthOptions = {}): RequestHandler {
  const mode = options.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'redirect' && mode !== '401') {
    throw new SsoGuardError(
      'invalid_option',
      `"mode" must be "auto", "redirect" or "401"; received ${JSON.stringify(mode)}`,
    );
  }
  return function requiresAuthGuard(req: Request, res: Response, next: NextFunction): void {
    const ctx = req.sso as GuardContext | undefined;
    if (ctx === undefined)
      return next(
        new SsoGuardError('invalid_option', 'requiresAuth() needs auth() to be mounted before it', { status: 500 }),
      );
    if (ctx.isAuthenticated()) return next();
    GuardContext.hooks(ctx).deny(req, res, next, mode);
  };
}
