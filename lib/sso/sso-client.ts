import type { AxiosInstance } from 'axios';
import createDebug from 'debug';
import type { Telemetry } from '../telemetry/telemetry';
import type { TokenIssuer } from './sso-options';
import { SsoGuardError } from '../errors';
import { REFUSING_ERRORS, classify, retCodeKind, type Classification } from './classify';
import { createHttpClient, send, type HttpClient } from '../util/http';
import type { CheckResult, SsoUser, TokenSet } from './types';

const debug = createDebug('express-sso-guard:sso');

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

/** The SsoGuardError of an answer the table calls an upstream failure. Never quotes the body. */
function upstream(
  outcome: Exclude<Classification, 'success' | 'refused'>,
  status: number,
  json: Record<string, unknown> | undefined,
  what: string,
): SsoGuardError {
  const rc = json === undefined ? 'none' : retCodeKind(json.ret_code);
  const detail =
    json === undefined
      ? `answered with non-JSON (HTTP ${status})`
      : rc !== 'none' && rc !== 'malformed'
        ? `answered ret_code ${Number(json.ret_code)} (HTTP ${status})`
        : `failed (HTTP ${status})`;
  if (outcome === 'upstream_timeout') return new SsoGuardError(outcome, `${what} timed out (HTTP ${status})`);
  if (outcome === 'upstream_unavailable') return new SsoGuardError(outcome, `${what} is unavailable: ${detail}`);
  return new SsoGuardError(outcome, `${what} ${detail}`);
}

/** Why an answer was a refusal, for the error message (status and ret_code or error; never free text). */
function refusalReason(status: number, json: Record<string, unknown> | undefined): string {
  if (json !== undefined && retCodeKind(json.ret_code) === 'refusing') return `ret_code ${Number(json.ret_code)}`;
  if (json !== undefined && typeof json.error === 'string' && REFUSING_ERRORS.includes(json.error))
    return `HTTP ${status} ${json.error}`;
  return `HTTP ${status}`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Whether a token has the Bearer token syntax of RFC 6750 (b64token). Nothing else can travel
 * unchanged in `Authorization: Bearer …`, and the SSO refuses anything else as a malformed request
 * (not as an invalid token): such a token is not valid, without asking, and an SSO issuing one is
 * answering something unusable (an upstream error at the exchange, not a session that never works).
 */
function bearerSafe(token: string): boolean {
  return /^[A-Za-z0-9\-._~+/]+=*$/.test(token);
}

/** Optional check_token user fields that must be strings when present. */
const USER_STRING_FIELDS = ['user_name', 'email', 'phone', 'lang'] as const;

/** The check_token fields of a body, when all are there and well-formed. */
function checkResult(b: Record<string, unknown>): CheckResult | undefined {
  const user = b.user;
  const accessKey = str(b.access_key);
  const secretKey = str(b.secret_key);
  const token = str(b.token);
  if (
    accessKey === undefined ||
    secretKey === undefined ||
    token === undefined ||
    user === null ||
    typeof user !== 'object' ||
    Array.isArray(user)
  )
    return undefined;
  // The documented user fields are strings (user_id never empty): anything else is malformed, so
  // no log line, event or page ever formats an object the SSO sent as if it were a name.
  const u = user as Record<string, unknown>;
  if (str(u.user_id) === undefined) return undefined;
  for (const field of USER_STRING_FIELDS) if (u[field] !== undefined && typeof u[field] !== 'string') return undefined;
  return { user: user as SsoUser, credentials: { accessKey, secretKey, token } };
}

/** Reads a token answer; anything without the documented fields is an upstream error. */
function tokenSet(body: Record<string, unknown>, what: string): TokenSet {
  const at = str(body.access_token);
  const accessToken = at !== undefined && bearerSafe(at) ? at : undefined;
  const expiresIn =
    typeof body.expires_in === 'string' && /^\d+$/.test(body.expires_in) ? Number(body.expires_in) : body.expires_in;
  if (accessToken === undefined || typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new SsoGuardError('upstream_error', `${what} answered without a valid access_token/expires_in`);
  }
  const rt = body.refresh_token;
  if (rt !== undefined && rt !== null && str(rt) === undefined)
    throw new SsoGuardError('upstream_error', `${what} answered with a malformed refresh_token`);
  return { accessToken, refreshToken: str(rt), expiresIn, tokenType: str(body.token_type) ?? 'Bearer' };
}

/** What the SSO client is made of (the options of the same names; `callbackUrl` from `appBaseUrl` and `routes.callback`). */
export interface SsoClientOptions {
  /** The SSO origin (and path), no trailing slash. */
  readonly ssoBaseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The `redirect_uri` of the authorize URL and the code exchange. */
  readonly callbackUrl: string;
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly tokenIssuer?: TokenIssuer;
  readonly userVerify: boolean;
  /** Milliseconds. */
  readonly httpTimeout: number;
  /** An app's axios instance. Default: a new keep-alive client on Node's http (`createHttpClient()`). */
  readonly httpClient?: AxiosInstance;
}

/** The four SSO calls. Bodies are form-encoded; answers are classified by the table in classify.ts. */
export class SsoClient {
  private readonly http: HttpClient;

  constructor(
    private readonly options: SsoClientOptions,
    private readonly telemetry: Telemetry,
  ) {
    this.http = options.httpClient ?? createHttpClient();
  }

  /** The URL the browser is sent to for sign-in. */
  authorizeUrl(state: string): string {
    // The protected parameters first; authorizationParams cannot name them (refused at construction).
    const q = new URLSearchParams({
      client_id: this.options.clientId,
      state,
      response_type: 'code',
      redirect_uri: this.options.callbackUrl,
    });
    for (const [name, value] of Object.entries(this.options.authorizationParams)) q.append(name, value);
    return `${this.options.ssoBaseUrl}/sso/oauth2/?${q.toString()}`;
  }

  /**
   * One SSO call, classified by the table in classify.ts: resolves the JSON body of a success or
   * `{ refused }` for a definitive refusal; throws the upstream error of anything else.
   */
  private async post(
    path: string,
    what: string,
    form: Record<string, string>,
    bearer?: string,
  ): Promise<{ refused: string } | { body: Record<string, unknown> }> {
    const headers: Record<string, string> =
      bearer === undefined ? FORM : { ...FORM, authorization: `Bearer ${bearer}` };
    const res = await send(
      this.http,
      { method: 'POST', url: `${this.options.ssoBaseUrl}${path}`, headers, data: new URLSearchParams(form).toString() },
      this.options.httpTimeout,
      what,
    );
    this.telemetry.httpStatus(res.status);
    const { outcome, json } = classify(res);
    debug('%s -> HTTP %d: %s', what, res.status, outcome);
    if (outcome === 'refused') return { refused: refusalReason(res.status, json) };
    if (outcome !== 'success') throw upstream(outcome, res.status, json, what);
    return { body: json! };
  }

  /** Exchanges an authorization code. A refused code throws `code_rejected`. */
  exchangeCode(code: string): Promise<TokenSet> {
    return this.telemetry.sso('token', () => this.exchange(code));
  }

  private async exchange(code: string): Promise<TokenSet> {
    const form: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.options.callbackUrl,
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    };
    if (this.options.tokenIssuer !== undefined) form.token_issuer = this.options.tokenIssuer;
    const answer = await this.post('/sso/token/', 'SSO token endpoint', form);
    if ('refused' in answer)
      throw new SsoGuardError('code_rejected', `The SSO refused the authorization code (${answer.refused})`);
    return tokenSet(answer.body, 'SSO token endpoint');
  }

  /** Checks an access token. `undefined` means the SSO says the token is not valid. */
  checkToken(accessToken: string): Promise<CheckResult | undefined> {
    return this.telemetry.sso(
      'check_token',
      () => this.check(accessToken),
      (result) => result === undefined,
    );
  }

  private async check(accessToken: string): Promise<CheckResult | undefined> {
    // A token that cannot be sent as it is (a Bearer header from a client) is not a valid token.
    if (!bearerSafe(accessToken)) return undefined;
    const form: Record<string, string> = this.options.userVerify ? { is_filter_user_verify: '1' } : {};
    const answer = await this.post('/sso/check_token/', 'SSO check_token', form, accessToken);
    if ('refused' in answer) return undefined;
    const result = checkResult(answer.body);
    if (result === undefined)
      throw new SsoGuardError('upstream_error', 'SSO check_token answered without access_key/secret_key/token/user');
    return result;
  }

  /** Refreshes tokens. A refused refresh token throws `refresh_rejected`: the session is over. */
  refresh(accessToken: string, refreshToken: string): Promise<TokenSet> {
    return this.telemetry.sso('refresh_token', () => this.refreshNow(accessToken, refreshToken));
  }

  private async refreshNow(accessToken: string, refreshToken: string): Promise<TokenSet> {
    const answer = await this.post(
      '/sso/refresh_token/',
      'SSO refresh_token',
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      accessToken,
    );
    if ('refused' in answer)
      throw new SsoGuardError('refresh_rejected', `The SSO refused the refresh token (${answer.refused})`);
    const tokens = tokenSet(answer.body, 'SSO refresh_token');
    // Some SSO versions answer a refresh with the check_token fields too: the caller seeds its
    // cache with them instead of asking check_token. Only a complete set counts (with
    // userVerify, only one whose user carries user_verify, as check_token's would).
    const check = checkResult(answer.body);
    if (check !== undefined && (!this.options.userVerify || check.user.user_verify !== undefined)) tokens.check = check;
    return tokens;
  }
}
