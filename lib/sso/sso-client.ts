import type { AxiosInstance, AxiosResponse } from 'axios';
import createDebug from 'debug';
import type { Config } from '../config';
import { SsoGuardError } from '../errors';
import { createHttpClient, nonZeroRetCode, parseJsonObject, send } from './http';

const debug = createDebug('express-sso-guard:sso');

/** A token answer of the SSO (`/sso/token/` and `/sso/refresh_token/`). */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | undefined;
  /** seconds */
  expiresIn: number;
  tokenType: string;
}

/** The user of a check_token answer: documented fields, open to more. */
export interface SsoUser {
  user_id: string;
  user_name?: string;
  email?: string;
  phone?: string;
  lang?: string;
  user_verify?: unknown;
  [key: string]: unknown;
}

/** Temporary credentials of the signed-in identity. */
export interface SsoCredentials {
  accessKey: string;
  secretKey: string;
  /** The STS token (a JWT, about one hour). */
  token: string;
}

/** A valid check_token answer. */
export interface CheckResult {
  user: SsoUser;
  credentials: SsoCredentials;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

/**
 * Whether an answer is the SSO refusing (a 4xx, or HTTP 200 with a non-zero `ret_code`) rather
 * than failing. A refusal ends a login or a session; a failure (5xx, garbage) must not.
 */
function refusal(res: AxiosResponse<string>, body: Record<string, unknown> | undefined): string | undefined {
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return `HTTP ${res.status}`;
  if (body !== undefined && res.status >= 200 && res.status < 300) {
    const rc = nonZeroRetCode(body);
    if (rc !== undefined) return `ret_code ${rc}`;
  }
  return undefined;
}

function upstreamStatus(res: AxiosResponse<string>, what: string): void {
  if (res.status === 429 || res.status === 503) throw new SsoGuardError('upstream_unavailable', `${what} is unavailable (HTTP ${res.status})`);
  if (res.status === 408 || res.status === 504) throw new SsoGuardError('upstream_timeout', `${what} timed out (HTTP ${res.status})`);
  if (res.status < 200 || res.status >= 300) throw new SsoGuardError('upstream_error', `${what} failed (HTTP ${res.status})`);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Whether a token can travel unchanged in `Authorization: Bearer …` (visible ASCII). Anything else
 * would be altered on the way (the HTTP client strips control characters, Node sends latin1), so
 * the SSO would check a different token than the one we hold.
 */
function bearerSafe(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

/** Reads a token answer; anything without the documented fields is an upstream error. */
function tokenSet(body: Record<string, unknown>, what: string): TokenSet {
  const at = str(body.access_token);
  const accessToken = at !== undefined && bearerSafe(at) ? at : undefined;
  const expiresIn = typeof body.expires_in === 'string' && /^\d+$/.test(body.expires_in) ? Number(body.expires_in) : body.expires_in;
  if (accessToken === undefined || typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new SsoGuardError('upstream_error', `${what} answered without a valid access_token/expires_in`);
  }
  const rt = body.refresh_token;
  if (rt !== undefined && rt !== null && str(rt) === undefined) throw new SsoGuardError('upstream_error', `${what} answered with a malformed refresh_token`);
  return { accessToken, refreshToken: str(rt), expiresIn, tokenType: str(body.token_type) ?? 'Bearer' };
}

/** The four SSO calls. Bodies are form-encoded; errors come as 4xx or as HTTP 200 + `ret_code`. */
export class SsoClient {
  private readonly http: AxiosInstance;

  constructor(private readonly config: Config) {
    this.http = config.httpClient ?? createHttpClient();
  }

  /** The URL the browser is sent to for sign-in. */
  authorizeUrl(state: string): string {
    const q = new URLSearchParams({ client_id: this.config.clientId, state, response_type: 'code', redirect_uri: this.config.callbackUrl });
    return `${this.config.ssoBaseUrl}/sso/oauth2/?${q.toString()}`;
  }

  private async post(path: string, what: string, form: Record<string, string>, bearer?: string): Promise<{ res: AxiosResponse<string>; body: Record<string, unknown> | undefined }> {
    const headers: Record<string, string> = bearer === undefined ? FORM : { ...FORM, authorization: `Bearer ${bearer}` };
    const res = await send(this.http, { method: 'POST', url: `${this.config.ssoBaseUrl}${path}`, headers, data: new URLSearchParams(form).toString() }, this.config.httpTimeout, what);
    this.config.telemetry.httpStatus(res.status);
    let body: Record<string, unknown> | undefined;
    try {
      body = parseJsonObject(res, what);
    } catch (err) {
      // A 4xx refusal may come with an HTML page; it is still a refusal.
      if (refusal(res, undefined) === undefined) {
        upstreamStatus(res, what);
        throw err;
      }
    }
    debug('%s -> HTTP %d', what, res.status);
    return { res, body };
  }

  /** Exchanges an authorization code. A refused code throws `code_rejected`. */
  exchangeCode(code: string): Promise<TokenSet> {
    return this.config.telemetry.sso('token', () => this.exchange(code));
  }

  private async exchange(code: string): Promise<TokenSet> {
    const form: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.config.callbackUrl,
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
    };
    if (this.config.tokenIssuer !== undefined) form.token_issuer = this.config.tokenIssuer;
    const { res, body } = await this.post('/sso/token/', 'SSO token endpoint', form);
    const refused = refusal(res, body);
    if (refused !== undefined) throw new SsoGuardError('code_rejected', `The SSO refused the authorization code (${refused})`);
    upstreamStatus(res, 'SSO token endpoint');
    return tokenSet(body!, 'SSO token endpoint');
  }

  /** Checks an access token. `undefined` means the SSO says the token is not valid. */
  checkToken(accessToken: string): Promise<CheckResult | undefined> {
    return this.config.telemetry.sso('check_token', () => this.check(accessToken), (result) => result === undefined);
  }

  private async check(accessToken: string): Promise<CheckResult | undefined> {
    // A token that cannot be sent as it is (a Bearer header from a client) is not a valid token.
    if (!bearerSafe(accessToken)) return undefined;
    const form: Record<string, string> = this.config.userVerify ? { is_filter_user_verify: '1' } : {};
    const { res, body } = await this.post('/sso/check_token/', 'SSO check_token', form, accessToken);
    if (refusal(res, body) !== undefined) return undefined;
    upstreamStatus(res, 'SSO check_token');
    const b = body!;
    const user = b.user;
    const accessKey = str(b.access_key);
    const secretKey = str(b.secret_key);
    const token = str(b.token);
    if (accessKey === undefined || secretKey === undefined || token === undefined || user === null || typeof user !== 'object' || Array.isArray(user)) {
      throw new SsoGuardError('upstream_error', 'SSO check_token answered without access_key/secret_key/token/user');
    }
    return { user: user as SsoUser, credentials: { accessKey, secretKey, token } };
  }

  /** Refreshes tokens. A refused refresh token throws `refresh_rejected`: the session is over. */
  refresh(accessToken: string, refreshToken: string): Promise<TokenSet> {
    return this.config.telemetry.sso('refresh_token', () => this.refreshNow(accessToken, refreshToken));
  }

  private async refreshNow(accessToken: string, refreshToken: string): Promise<TokenSet> {
    const { res, body } = await this.post('/sso/refresh_token/', 'SSO refresh_token', { grant_type: 'refresh_token', refresh_token: refreshToken }, accessToken);
    const refused = refusal(res, body);
    if (refused !== undefined) throw new SsoGuardError('refresh_rejected', `The SSO refused the refresh token (${refused})`);
    upstreamStatus(res, 'SSO refresh_token');
    return tokenSet(body!, 'SSO refresh_token');
  }
}
