import type { IncomingMessage, ServerResponse } from 'node:http';
import { pageSettings } from './send-page';
import createDebug from 'debug';
import { appendSetCookie } from '../session/cookies';
import type { Core } from '../instance';
import { sessionFromTokens } from '../auth/session-from-tokens';
import { SsoGuardError } from '../errors';
import { isNavigation, redirect } from './respond';
import { requestSite, sendLogoutConfirmation } from './logout-guard';
import { safeReturnTo } from './return-to';
import { underBase } from './base-path';
import { MAX_TRANSACTION_RETURN_TO } from '../session/transaction-cookie';
import type { SsoUser } from '../sso/types';

const debug = createDebug('express-sso-guard:routes');

/** Longest query string `/callback` accepts; real ones are a code and a state. */
const MAX_QUERY = 4096;
/** Longest single parameter value accepted on `/callback`. */
const MAX_VALUE = 2048;
const CALLBACK_PARAMS = new Set(['code', 'state', 'error', 'error_description', 'error_uri', 'session_state', 'iss']);

/** A route's failure: handed to the middleware, which renders it or passes it to `next`. */
export type Fail = (err: SsoGuardError) => void;

/**
 * Parses a query string strictly: a repeated or oversized parameter is an error, never silently
 * resolved one way or another (HTTP parameter pollution).
 */
export function strictQuery(url: string, maxQuery = MAX_QUERY): Map<string, string> | SsoGuardError {
  const q = url.indexOf('?');
  const raw = q === -1 ? '' : url.slice(q + 1);
  if (raw.length > maxQuery) return new SsoGuardError('invalid_request', 'Query string too long');
  const out = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(raw)) {
    const known = CALLBACK_PARAMS.has(key) || key === 'returnTo';
    if (out.has(key))
      return new SsoGuardError('invalid_request', known ? `Parameter "${key}" is repeated` : 'A parameter is repeated');
    if (value.length > MAX_VALUE)
      return new SsoGuardError('invalid_request', known ? `Parameter "${key}" is too long` : 'A parameter is too long');
    out.set(key, value);
  }
  return out;
}

/**
 * Asks the browser to drop this origin's HTTP cache (signed-in pages a Back button would show).
 * Browsers honour it on https (and localhost) only; `Cache-Control: no-store` covers the rest.
 */
export function clearSiteCache(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('clear-site-data', '"cache"');
}

/** `GET /login?returnTo=/path`: a new transaction cookie, then off to the SSO. */
export function login(core: Core, req: IncomingMessage, res: ServerResponse): void {
  const query = strictQuery(req.url ?? '', MAX_QUERY * 2);
  const asked = query instanceof Map ? query.get('returnTo') : undefined;
  const safe = safeReturnTo(asked, core.config.appOrigin);
  let returnTo = safe === undefined ? `${core.config.basePath}/` : underBase(safe, core.config.basePath);
  // A long returnTo would bloat the transaction cookie (and, piled up, the callback request).
  if (returnTo.length > MAX_TRANSACTION_RETURN_TO) returnTo = `${core.config.basePath}/`;
  if (asked !== undefined && returnTo !== asked) debug('login: returnTo refused, shortened or normalized');
  const { state, setCookie, index, drop } = core.transactions.begin(returnTo, core.config.clock(), req.headers.cookie);
  appendSetCookie(res, [setCookie, index, ...drop]);
  redirect(res, core.sso.authorizeUrl(state));
}

/** `GET /callback?code&state`: checks the state, exchanges the code, starts the session. */
export async function callback(core: Core, req: IncomingMessage, res: ServerResponse, fail: Fail): Promise<void> {
  const query = strictQuery(req.url ?? '');
  if (!(query instanceof Map)) return fail(query);
  const state = query.get('state');
  const now = core.config.clock();
  // Find (and delete) the transaction first, whatever happens next: a callback is used once.
  const { txn, clear, index } =
    state === undefined
      ? { txn: undefined, clear: undefined, index: undefined }
      : core.transactions.take(req.headers.cookie, state, now);
  if (clear !== undefined) appendSetCookie(res, index === undefined ? clear : [...clear, index]);
  const error = query.get('error');
  if (error !== undefined) {
    const shown = /^[a-z_]{1,64}$/.test(error) ? ` (${error})` : '';
    return fail(new SsoGuardError('access_denied', `Sign-in was not completed${shown}`));
  }
  if (state === undefined) return fail(new SsoGuardError('invalid_state', 'Missing state parameter'));
  if (txn === undefined)
    return fail(
      new SsoGuardError('invalid_state', 'Unknown, expired or already used login state; please sign in again'),
    );
  const code = query.get('code');
  if (code === undefined || code === '') return fail(new SsoGuardError('invalid_request', 'Missing code parameter'));

  let tokens;
  let user: SsoUser | undefined;
  const { authorize } = core.config;
  const { telemetry } = core;
  try {
    tokens = await core.sso.exchangeCode(code);
    if (authorize !== undefined || telemetry.listens('login'))
      user = (await core.authenticator.signInCheck(tokens.accessToken, core.config.clock() + tokens.expiresIn * 1000))
        .user;
  } catch (err) {
    if (err instanceof SsoGuardError) return fail(err);
    throw err;
  }
  if (authorize !== undefined && (await authorize(user!, req)) !== true)
    return fail(new SsoGuardError('forbidden', 'This account may not sign in to this application'));
  let started;
  try {
    started = sessionFromTokens(core.lifecycle, tokens, {
      entry: 'callback',
      now: core.config.clock(),
      previous: core.sessions.read(req.headers.cookie).names,
      user,
    });
    await started.commit();
  } catch (err) {
    // e.g. a session too large for its cookie, or a store that cannot keep it: refused here,
    // with no cookie half-written.
    if (err instanceof SsoGuardError) return fail(err);
    throw err;
  }
  appendSetCookie(res, started.setCookie!);
  debug('callback: session started');
  redirect(res, txn.returnTo);
}

/**
 * `GET|POST /logout?returnTo=/path`: revokes and clears the session locally (the SSO has no
 * logout). A request another site sent, or a GET that does not say where it comes from, never
 * ends the session: a GET navigation gets a page whose button POSTs here from the app's own
 * origin; anything else a 403.
 */
export async function logout(core: Core, req: IncomingMessage, res: ServerResponse, fail: Fail): Promise<void> {
  const site = requestSite(req, core.config.appOrigin);
  // A GET that says nothing of where it comes from (plain http has no Fetch Metadata, and
  // `Referrer-Policy: no-referrer` hides the Referer) may be another site's link or <img>: treated
  // as foreign. A POST is not: browsers send Origin on every POST (`null` when hidden, refused).
  if (site === 'foreign' || (site === 'unknown' && req.method !== 'POST')) {
    debug('logout: cross-site or unknown-origin request, session kept');
    if (isNavigation(req)) {
      const q = (req.url ?? '').indexOf('?');
      const action = core.config.basePath + core.config.routes.logout + (q === -1 ? '' : (req.url ?? '').slice(q));
      return sendLogoutConfirmation(req, res, pageSettings(core), action, `${core.config.basePath}/`);
    }
    return fail(new SsoGuardError('cross_site_request', 'Cross-site logout refused; sign out from the app itself'));
  }
  const names = await core.lifecycle.revokeCookie(req.headers.cookie);
  if (names.length > 0) appendSetCookie(res, core.sessions.clear(names));
  clearSiteCache(res);
  const query = strictQuery(req.url ?? '', MAX_QUERY * 2);
  const returnTo = safeReturnTo(query instanceof Map ? query.get('returnTo') : undefined, core.config.appOrigin);
  redirect(res, returnTo === undefined ? `${core.config.basePath}/` : underBase(returnTo, core.config.basePath));
}
