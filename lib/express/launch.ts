import type { IncomingMessage, ServerResponse } from 'node:http';
import createDebug from 'debug';
import { CONFIRM_TTL_MS, Launcher, type LaunchDecision } from '../auth/launch';
import { mayCarryTokens, readLaunch, withoutTokens, type LaunchRequest } from '../auth/launch-request';
import { SsoGuardError } from '../errors';
import { pageAccount, switchAccountPageContext } from '../i18n/pages';
import type { Core } from '../instance';
import { appendSetCookie, readCookies, serializeCookie } from '../session/cookies';
import { requestPaths, underBase } from './base-path';
import { requestSite } from './logout-guard';
import { isNavigation, redirect } from './respond';
import { safeReturnTo } from './return-to';
import { answerLanguage, pageSettings, sendPage } from './send-page';
import type { Fail } from './routes';

const debug = createDebug('express-sso-guard:launch');

/** Largest confirmation POST body read (the sealed field holds two tokens of up to 4 KB each). */
const MAX_FORM = 16 * 1024;
/** Largest sealed confirmation kept in a cookie (browsers drop cookies over 4 KB). */
const MAX_CONFIRM_COOKIE = 3800;

/** A launch GET, the account-switch page, or its POST. */
export type LaunchCall =
  | { readonly kind: 'launch'; readonly launch: LaunchRequest; readonly onRoute: boolean }
  /** `GET routes.launch?confirm`: the account-switch page, from the confirmation cookie. */
  | { readonly kind: 'view' }
  /** `POST routes.launch`: the page's button. */
  | { readonly kind: 'confirm' };

/** The launch route and the SaaS-redirect check, for `auth()` with `launch: true`. */
export interface LaunchRoute {
  /**
   * Whether a request is a launch: a GET of the launch route, a GET navigation elsewhere whose
   * query carries `access_token`/`refresh_token` (a cheap substring test first), or the POST of
   * the confirmation. HEAD and other POSTs are not.
   */
  read(req: IncomingMessage & { originalUrl?: string }, path: string): LaunchCall | undefined;
  /**
   * The request's URL as the browser sees it, without launch tokens: for a sign-in's `returnTo`
   * when the request is no launch (a HEAD, an API call, a POST) yet carries them.
   */
  strip(req: IncomingMessage & { originalUrl?: string }): string;
  /** Answers a launch: a 303 without the tokens, a sign-in, the confirmation page, or a failure. */
  handle(
    req: IncomingMessage & { originalUrl?: string },
    res: ServerResponse,
    call: LaunchCall,
    fail: Fail,
  ): Promise<void>;
}

/** Reads the confirmation's `launch` field: from a body parser's `req.body`, else the urlencoded body itself. */
async function formField(req: IncomingMessage & { body?: unknown }): Promise<string | undefined> {
  const parsed = req.body;
  if (parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, 'launch')) {
    const v = (parsed as Record<string, unknown>).launch;
    return typeof v === 'string' ? v : undefined;
  }
  // Not parsed before auth() (or by a parser of another type, e.g. express.json() in Express 4
  // leaves `{}`): read the form here, unless the body was consumed already.
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '') || req.readableEnded)
    return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  const body = await new Promise<string | undefined>((resolve) => {
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is drained, not kept.
      if (size <= MAX_FORM) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_FORM ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
  if (body === undefined) return undefined;
  const values = new URLSearchParams(body).getAll('launch');
  return values.length === 1 ? values[0] : undefined;
}

/** The launch route of an instance; `loginUrl(returnTo)` is where a sign-in starts. */
export function launchRoute(core: Core, loginUrl: (returnTo: string) => string): LaunchRoute {
  const { config } = core;
  const route = config.routes.launch;
  const action = config.basePath + route;
  const home = `${config.basePath}/`;
  const confirmCookie = `${config.session.name}_launch`;
  const cookieAttrs = { path: action, secure: config.secureCookies };
  const pages = pageSettings(core);
  const launcher = new Launcher({
    authenticator: core.authenticator,
    lifecycle: core.lifecycle,
    clock: config.clock,
    secrets: config.secrets,
    authorize: config.authorize,
    unknownExpiry: config.session.absoluteDuration,
  });

  /** Where a launch goes next, without tokens: the launch route's same-origin `returnTo` (or home), else the URL itself. */
  function targetOf(launch: LaunchRequest, onRoute: boolean): string {
    if (!onRoute) return launch.path + launch.query;
    const safe = safeReturnTo(launch.returnTo, config.appOrigin);
    return safe === undefined ? home : withoutTokens(underBase(safe, config.basePath));
  }

  /** Answers a decision; `fresh`: a launch GET, whose URL still carries the tokens. */
  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    decision: LaunchDecision,
    fail: Fail,
    fresh = false,
  ): void {
    res.setHeader('referrer-policy', 'no-referrer');
    switch (decision.kind) {
      case 'sign-in':
        return redirect(res, loginUrl(decision.target), 303);
      case 'go':
        if (decision.setCookie !== undefined) appendSetCookie(res, decision.setCookie);
        return redirect(res, decision.target, 303);
      case 'forbidden':
        return fail(new SsoGuardError('forbidden', 'This account may not sign in to this application'));
      case 'refused':
        debug('account switch refused: %s', decision.why);
        return fail(
          new SsoGuardError('invalid_request', 'This account switch is no longer valid; open the link again'),
        );
      case 'confirm':
        if (fresh && decision.sealed.length <= MAX_CONFIRM_COOKIE) {
          // The page is shown at a URL without the tokens (out of the address bar and history):
          // the sealed confirmation waits in a cookie of the launch route meanwhile.
          const maxAge = CONFIRM_TTL_MS / 1000;
          appendSetCookie(res, [serializeCookie(confirmCookie, decision.sealed, { ...cookieAttrs, maxAge })]);
          return redirect(res, `${action}?confirm`, 303);
        }
        return sendPage(
          req,
          res,
          pages,
          'switch-account',
          switchAccountPageContext(answerLanguage(req, res, pages), {
            current: pageAccount(decision.current.user_id, decision.current.user_name),
            next: pageAccount(decision.next.user_id, decision.next.user_name),
            action,
            sealed: decision.sealed,
            cancelUrl: decision.target,
          }),
        );
    }
  }

  return {
    read(req, path) {
      const method = req.method;
      if (path === route) {
        if (method === 'POST') return { kind: 'confirm' };
        if (method !== 'GET') return undefined;
      } else if (method !== 'GET' || !mayCarryTokens(req.url ?? '') || !isNavigation(req)) return undefined;
      const onRoute = path === route;
      const launch = readLaunch(requestPaths(req, config.basePath).external, onRoute);
      if (launch === undefined) return undefined;
      if (onRoute && launch.tokens === undefined && launch.query === '?confirm') return { kind: 'view' };
      return { kind: 'launch', launch, onRoute };
    },

    strip(req) {
      const { route: path, external } = requestPaths(req, config.basePath);
      const read = readLaunch(external, path === route);
      return read === undefined ? external : read.path + read.query;
    },

    async handle(req, res, call, fail) {
      try {
        if (call.kind === 'launch') {
          const target = targetOf(call.launch, call.onRoute);
          const decision = await launcher.launch(call.launch, target, req.headers.cookie, req);
          return answer(req, res, decision, fail, true);
        }
        const pending = readCookies(req.headers.cookie, confirmCookie)?.get(confirmCookie);
        if (call.kind === 'view') {
          const decision =
            pending === undefined
              ? ({ kind: 'refused', why: 'no confirmation cookie' } as const)
              : await launcher.view(pending, req.headers.cookie, req);
          return answer(req, res, decision, fail);
        }
        if (pending !== undefined)
          appendSetCookie(res, [serializeCookie(confirmCookie, '', { ...cookieAttrs, maxAge: 0 })]);
        if (requestSite(req, config.appOrigin) !== 'same') {
          debug('account switch: cross-site or unmarked POST refused');
          return fail(
            new SsoGuardError('invalid_request', 'Cross-site account switch refused; open the link again', {
              status: 403,
            }),
          );
        }
        const sealed = await formField(req);
        const decision =
          sealed === undefined
            ? ({ kind: 'refused', why: 'no confirmation in the body' } as const)
            : await launcher.confirm(sealed, req.headers.cookie, req);
        answer(req, res, decision, fail);
      } catch (err) {
        if (err instanceof SsoGuardError) return fail(err);
        throw err;
      }
    },
  };
}
