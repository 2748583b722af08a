import { HttpException, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { requiresAuth } from '../express/middleware';
import { GuardContext } from '../express/context';
import { SsoGuardError, isSsoGuardError } from '../errors';
import type { RequiresAuthOptions } from '../options';
import type { SsoUser } from '../sso/types';

const PUBLIC = 'express-sso-guard:public';
const ROUTE = 'express-sso-guard:route';

/** What `@SsoAuth()` sets on a controller or a route handler. */
export interface SsoAuthOptions extends RequiresAuthOptions {
  /**
   * Decides whether the signed-in user may use this route, on every request: `true` admits;
   * anything else answers 403 `forbidden` (a page or JSON, as the middleware renders its errors).
   * A thrown error goes to Nest's exception filters.
   * @default none (every signed-in user)
   */
  authorize?: (user: SsoUser, req: Request) => boolean | Promise<boolean>;
}

/**
 * Marks a route handler (or a whole controller) as open to signed-out requests: `SsoAuthGuard`
 * lets it through. `req.sso` is still set; ask `req.sso.isAuthenticated()` there.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC, true);

/**
 * Route options of `SsoAuthGuard` on a route handler or a controller (the handler's win):
 * `mode` as `requiresAuth({ mode })`, and a per-route `authorize`.
 */
export const SsoAuth = (options: SsoAuthOptions): MethodDecorator & ClassDecorator => {
  // Checked here, at decoration time, as requiresAuth() checks its options.
  requiresAuth(options);
  if (options.authorize !== undefined && typeof options.authorize !== 'function')
    throw new SsoGuardError('invalid_option', '"authorize" must be a function (user, req) returning true or false');
  return SetMetadata(ROUTE, Object.freeze({ ...options }));
};

type Metadata = { getMetadata(key: string, target: object): unknown };

/** The metadata of the handler, else of its controller (reflect-metadata is loaded by @nestjs/common). */
function metadata<T>(key: string, context: ExecutionContext): T | undefined {
  const reflect = Reflect as unknown as Metadata;
  return (reflect.getMetadata(key, context.getHandler()) ?? reflect.getMetadata(key, context.getClass())) as
    T | undefined;
}

/**
 * An SsoGuardError as Nest's exception: same status, body `{ error, message }`, the error kept as
 * `cause` for the app's exception filters.
 */
export function toHttpException(err: SsoGuardError): HttpException;
export function toHttpException(err: unknown): unknown;
export function toHttpException(err: unknown): unknown {
  if (!isSsoGuardError(err)) return err;
  return new HttpException({ error: err.code, message: err.message }, err.status, { cause: err });
}

/**
 * Runs a middleware-style answer: true when it called `next()`, false when it answered the
 * request itself (a login redirect, a 401/403 page or JSON), and a thrown Nest exception when it
 * called `next(err)` (with `renderErrors: false`, or `auth()` missing).
 */
function settle(run: (next: NextFunction) => void, res: Response): Promise<boolean> {
  return new Promise((resolve, reject) => {
    run((err?: unknown) => (err === undefined ? resolve(true) : reject(toHttpException(err))));
    if (res.headersSent || res.writableEnded) resolve(false);
  });
}

/** `requiresAuth()` once per mode: the guard answers exactly as the middleware does. */
const GUARDS = {
  auto: requiresAuth(),
  redirect: requiresAuth({ mode: 'redirect' }),
  '401': requiresAuth({ mode: '401' }),
};

/**
 * The Nest guard of express-sso-guard, for apps that mount `auth({ authRequired: false })` with
 * `app.use()`: it answers signed-out requests as `requiresAuth()` does (login redirect for page
 * navigations, 401 JSON for API calls, 502/503/504 during an SSO outage), lets `@Public()` routes
 * through, and applies `@SsoAuth({ authorize })`. Use it per controller (`@UseGuards(SsoAuthGuard)`)
 * or for the whole app (`{ provide: APP_GUARD, useClass: SsoAuthGuard }`).
 *
 * Outside HTTP (WebSocket gateways, microservices) it refuses every handler not marked `@Public()`.
 *
 * When it answers the request itself, the response is already written (`res.headersSent`) and the
 * guard returns false: Nest's default exception filter leaves such a response alone.
 */
export class SsoAuthGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (metadata<boolean>(PUBLIC, context) === true) return true;
    // WebSocket and microservice handlers carry no request auth() has seen: refused, not waved through.
    if (context.getType() !== 'http') return false;
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const route = metadata<SsoAuthOptions>(ROUTE, context) ?? {};
    const signedIn = await settle((next) => GUARDS[route.mode ?? 'auto'](req, res, next), res);
    if (!signedIn || route.authorize === undefined) return signedIn;
    if ((await route.authorize(req.sso.user, req)) === true) return true;
    const ctx = req.sso as GuardContext;
    return settle(
      (next) =>
        GuardContext.hooks(ctx).refuse(
          req,
          res,
          next,
          new SsoGuardError('forbidden', 'This account may not use this page'),
          route.mode,
        ),
      res,
    );
  }
}
Injectable()(SsoAuthGuard);
