import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import {
  OAuthProblem,
  bearerToken,
  parseForm,
  parseParams,
  redirect,
  requireParam,
  send,
  sendProblem,
  sendSuccess,
} from './http';
import type { ResolvedClient, ResolvedOptions } from './options';
import { PAGE_HEADERS, errorPage, signInPage } from './pages';
import { pageText } from './strings';
import { TOKEN_ISSUERS, type EmulatorStore } from './state';
import type { TokenIssuer } from './types';

/** What the endpoint handlers work with. */
export interface HandlerContext {
  readonly config: ResolvedOptions;
  readonly store: EmulatorStore;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether `uri` may receive codes for `client`: exact match when registered, else any local http(s) URL. */
export function redirectUriAllowed(client: ResolvedClient, uri: string): boolean {
  if (client.redirectUris) return client.redirectUris.includes(uri);
  // WHATWG URL parsing silently drops tabs/newlines and reads "\" as "/": refuse such input outright.
  if ([...uri].some((c) => c <= ' ' || c === '\x7f' || c === '\\' || c === '#' || /\s/.test(c))) return false;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    !url.username &&
    !url.password &&
    LOCAL_HOSTS.has(url.hostname)
  );
}

/** Validates the authorize parameters (GET page, form post and `approve()` alike). */
export function validateAuthorize(
  config: ResolvedOptions,
  params: { clientId: string | undefined; responseType: string | undefined; redirectUri: string | undefined },
): ResolvedClient {
  if (!params.clientId) throw new OAuthProblem('invalid_request', 'missing required parameter "client_id"');
  const client = config.clients.find((c) => c.clientId === params.clientId);
  if (!client) throw new OAuthProblem('invalid_client', 'unknown client_id');
  if (params.responseType !== 'code') throw new OAuthProblem('invalid_request', 'response_type must be "code"');
  if (!params.redirectUri) throw new OAuthProblem('invalid_request', 'missing required parameter "redirect_uri"');
  if (!redirectUriAllowed(client, params.redirectUri))
    throw new OAuthProblem('invalid_request', 'redirect_uri is not allowed for this client');
  return client;
}

/** `redirectUri` with `extra` appended to its query; the existing query is kept byte for byte. */
export function withQuery(redirectUri: string, extra: Record<string, string | undefined>): string {
  const base = new URL(redirectUri).href; // percent-encodes what a Location header cannot carry
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) params.append(name, value);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${params.toString()}`;
}

export function sendPage(res: http.ServerResponse, status: number, html: string): void {
  send(res, status, 'text/html; charset=utf-8', html, PAGE_HEADERS);
}

export function pageProblem(req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
  if (!(err instanceof OAuthProblem)) throw err;
  sendPage(res, 400, errorPage(pageText(req, res), 400, err.message));
}

/** `GET /sso/oauth2/`: the sign-in page, or a redirect with a code when auto-approving. */
export function handleAuthorize(
  ctx: HandlerContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  query: string,
): void {
  try {
    const params = parseParams(query);
    const client = validateAuthorize(ctx.config, {
      clientId: params.get('client_id'),
      responseType: params.get('response_type'),
      redirectUri: params.get('redirect_uri'),
    });
    const redirectUri = params.get('redirect_uri') as string;
    const state = params.get('state');
    const autoUser = ctx.config.settings.autoApprove;
    if (autoUser !== false) {
      const code = ctx.store.issueCode({ clientId: client.clientId, redirectUri, userId: autoUser });
      redirect(res, withQuery(redirectUri, { code, state }));
      return;
    }
    const users = [...ctx.store.users.values()];
    sendPage(res, 200, signInPage(pageText(req, res), { clientId: client.clientId, redirectUri, state }, users));
  } catch (err) {
    pageProblem(req, res, err);
  }
}

/** `POST /sso/oauth2/approve`: the sign-in form. Re-validates everything, then redirects with a code or `access_denied`. */
export function handleApprove(
  ctx: HandlerContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string,
): void {
  try {
    const form = parseForm(req, body);
    const client = validateAuthorize(ctx.config, {
      clientId: form.get('client_id'),
      responseType: form.get('response_type'),
      redirectUri: form.get('redirect_uri'),
    });
    const redirectUri = form.get('redirect_uri') as string;
    const state = form.get('state');
    const action = form.get('action') ?? 'approve'; // Enter in the text box may submit without a button
    if (action === 'cancel') {
      redirect(res, withQuery(redirectUri, { error: 'access_denied', state }));
      return;
    }
    if (action !== 'approve') throw new OAuthProblem('invalid_request', 'action must be "approve" or "cancel"');
    const typed = (form.get('username') ?? '').trim();
    if (typed.length > 64) throw new OAuthProblem('invalid_request', 'the user name is longer than 64 characters');
    let userId: string;
    if (typed) {
      userId = ctx.store.userByName(typed).user_id;
    } else {
      const chosen = form.get('user');
      if (!chosen || !ctx.store.users.has(chosen))
        throw new OAuthProblem('invalid_request', 'choose a user or type a user name');
      userId = chosen;
    }
    const code = ctx.store.issueCode({ clientId: client.clientId, redirectUri, userId });
    redirect(res, withQuery(redirectUri, { code, state }));
  } catch (err) {
    pageProblem(req, res, err);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function authenticateClient(ctx: HandlerContext, clientId: string, clientSecret: string): void {
  const client = ctx.config.clients.find((c) => c.clientId === clientId);
  // Compare fixed-length digests in constant time; hash even for unknown ids so timing says nothing.
  const matches = timingSafeEqual(digest(client?.clientSecret ?? ''), digest(clientSecret));
  if (!client || !matches) throw new OAuthProblem('invalid_client', 'unknown client_id or wrong client_secret');
}

function asJson(ctx: HandlerContext, res: http.ServerResponse, answer: () => object): void {
  try {
    sendSuccess(res, answer(), ctx.config.settings);
  } catch (err) {
    if (!(err instanceof OAuthProblem)) throw err;
    sendProblem(res, err, ctx.config.settings.errorStyle, ctx.config.settings.retCodeType);
  }
}

/** `POST /sso/token/`: exchanges an authorization code. */
export function handleToken(
  ctx: HandlerContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string,
): void {
  asJson(ctx, res, () => {
    const form = parseForm(req, body);
    const grantType = requireParam(form, 'grant_type');
    const code = requireParam(form, 'code');
    const redirectUri = requireParam(form, 'redirect_uri');
    const clientId = requireParam(form, 'client_id');
    const clientSecret = requireParam(form, 'client_secret');
    const issuer = form.get('token_issuer');
    if (grantType !== 'authorization_code')
      throw new OAuthProblem('unsupported_grant_type', 'grant_type must be "authorization_code"');
    if (issuer !== undefined && !TOKEN_ISSUERS.includes(issuer as TokenIssuer))
      throw new OAuthProblem('invalid_request', `token_issuer must be one of ${TOKEN_ISSUERS.join(', ')}`);
    authenticateClient(ctx, clientId, clientSecret);
    return ctx.store.exchangeCode({ code, clientId, redirectUri, tokenIssuer: issuer as TokenIssuer | undefined });
  });
}

/** `POST /sso/check_token/`: the temporary credentials and user of an access token. */
export function handleCheckToken(
  ctx: HandlerContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string,
): void {
  asJson(ctx, res, () => {
    const form = parseForm(req, body);
    const accessToken = bearerToken(req);
    const filter = form.get('is_filter_user_verify') ?? '0';
    if (filter !== '0' && filter !== '1')
      throw new OAuthProblem('invalid_request', 'is_filter_user_verify must be 0 or 1');
    return ctx.store.check(accessToken, filter === '1');
  });
}

/** `POST /sso/refresh_token/`: new tokens for a refresh token, with the current access token as Bearer. */
export function handleRefresh(
  ctx: HandlerContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string,
): void {
  asJson(ctx, res, () => {
    const form = parseForm(req, body);
    const accessToken = bearerToken(req);
    const grantType = requireParam(form, 'grant_type');
    const refreshToken = requireParam(form, 'refresh_token');
    if (grantType !== 'refresh_token')
      throw new OAuthProblem('unsupported_grant_type', 'grant_type must be "refresh_token"');
    return ctx.store.refresh(accessToken, refreshToken);
  });
}
