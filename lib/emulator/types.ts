import type { SpiCallAction, SpiCallOptions, SpiCallParams, SpiCallResult } from './spi-client';
import type http from 'node:http';

/**
 * A user the emulator can sign in. `check_token` answers with these fields (missing `email`,
 * `phone` read as `''`, a missing `lang` as `'en'`); extra keys are passed through, like the
 * real server's open `user` map.
 */
export interface EmulatorUser {
  /** Stable id: `user.user_id`, and `sub` of the temporary credential token. Must be unique. */
  user_id: string;
  /** Display and login name; the sign-in page's text box matches it (or the id). */
  user_name: string;
  /** Default `''`. */
  email?: string;
  /** Default `''`. */
  phone?: string;
  /** Default `'en'`. */
  lang?: string;
  /** Returned as `user.user_verify` only when `is_filter_user_verify=1`. Default `{}`. */
  user_verify?: Record<string, unknown>;
  [k: string]: unknown;
}

/** An OAuth client (relying party) the emulator knows. */
export interface EmulatorClient {
  /** The `client_id`. Must be unique. */
  clientId: string;
  /** The `client_secret`, compared in constant time by `/sso/token/`. */
  clientSecret: string;
  /**
   * Registered callback URLs, matched exactly. When absent, any http(s) URL on `localhost`,
   * `127.0.0.1` or `[::1]` (any port and path, no fragment, no user info) is accepted.
   */
  redirectUris?: string[];
}

/**
 * A handler mounted with {@link EmulatorOptions.routes}. It gets the request body already read
 * (at most 64 KB; bigger bodies are answered 413 before the handler runs). A throw or a rejected
 * promise is answered 500.
 */
export type EmulatorRouteHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string,
) => void | Promise<void>;

/** Error style of the JSON endpoints (token, check_token, refresh_token). */
export type EmulatorErrorStyle = 'status' | 'ret_code';

/** How `ret_code` is written in JSON. */
export type EmulatorRetCodeType = 'number' | 'string';

/** Options of {@link startEmulator}. Every option is validated once; a bad one throws an `invalid_option` SsoGuardError naming it. */
export interface EmulatorOptions {
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** TCP port; `0` picks a free one (read it back from `emulator.port`). Default `0`. */
  port?: number;
  /**
   * Known clients. Default `[{ clientId: 'example-client', clientSecret: 'example-secret' }]`.
   * Do not combine with the `clientId` / `clientSecret` / `redirectUris` shorthand.
   */
  clients?: EmulatorClient[];
  /** Shorthand for a single client: its id. Default `'example-client'`. */
  clientId?: string;
  /** Shorthand for a single client: its secret. Default `'example-secret'`. */
  clientSecret?: string;
  /** Shorthand for a single client: its registered redirect URIs. Default: any localhost URL. */
  redirectUris?: string[];
  /** Users offered on the sign-in page, first one preselected. Default: alice (`usr-alice`) and bob (`usr-bob`). */
  users?: EmulatorUser[];
  /**
   * Skip the sign-in page: `true` approves as the first user, a string approves as the user with
   * that `user_id`. Default `false` (show the page).
   */
  autoApprove?: boolean | string;
  /** Access token lifetime, seconds (fractions allowed; `expires_in` is rounded up). Default `3600`. */
  accessTokenTtl?: number;
  /** Lifetime of the temporary credentials (`exp` of `token`), seconds. Default `3600`. */
  stsTokenTtl?: number;
  /** Authorization code lifetime, seconds. Default `60`. */
  codeTtl?: number;
  /** Issue refresh tokens (never for `token_issuer=iam_jwt`). Default `true`. */
  refreshTokens?: boolean;
  /**
   * Rotate refresh tokens: each refresh returns a new refresh token, and the old refresh token and
   * the grant's previous access tokens stop working at once. When `false` the same refresh token
   * is returned again and earlier access tokens live until they expire. Default `true`.
   */
  rotateRefreshTokens?: boolean;
  /** Refresh token lifetime, seconds, counted from its issue. Default `2592000` (30 days). */
  refreshTokenTtl?: number;
  /**
   * `'status'`: errors are HTTP 400 / 401 with `{error, error_description}`. `'ret_code'`: errors
   * are HTTP 200 with `{ret_code, message}` (codes in {@link EMULATOR_RET_CODES}). Default `'status'`.
   */
  errorStyle?: EmulatorErrorStyle;
  /** Add `ret_code: 0` to every successful JSON answer. Default `false` (no `ret_code` on success). */
  retCodeOnSuccess?: boolean;
  /**
   * How `ret_code` is written, in successes (with `retCodeOnSuccess`), `ret_code`-style errors and
   * `retCode` faults: `'number'` (`"ret_code":2100`, the IaaS docs) or `'string'`
   * (`"ret_code":"2100"`, as the Go SDK reads it). Default `'number'`.
   */
  retCodeType?: EmulatorRetCodeType;
  /**
   * `/sso/refresh_token/` also answers `access_key`, `secret_key`, `token` and `user` (the new
   * access token's check_token answer, without `user_verify`), as one guide documents. Default `false`.
   */
  refreshWithCredentials?: boolean;
  /** Current time, milliseconds since the epoch; inject a fake clock in tests. Default `Date.now`. */
  clock?: () => number;
  /** Receives one line per request (method, path, status); never tokens or secrets. Default: silent. */
  logger?: (line: string) => void;
  /**
   * Extra handlers keyed by path prefix, e.g. `{ '/iam/': handler }` (matches `/iam` and
   * `/iam/…`). A prefix named like an {@link EmulatorEndpoint} (`'/iam/'` → `'iam'`) is counted
   * and faulted under that name. The built-in `/sso/…` paths take precedence. Default `{}`.
   */
  routes?: Record<string, EmulatorRouteHandler>;
  /**
   * Serves the emulated cloud API at `/iam/` (signature, STS token and `time_stamp` checked
   * against the temporary credentials this emulator hands out through check_token), answering
   * `DescribeUsers` and `DescribeInstances`. `false` turns it off; an object sets the instance
   * list `DescribeInstances` returns and the API host's variants: `clockOffset` (ms the API
   * host's clock runs ahead (+) or behind (−) `clock`: `time_stamp` is judged by it, ret_code
   * 1300 beyond 60 s, and every answer's `Date` header shows it) and `expiredToken` (how an
   * expired STS token is answered: `'status'` HTTP 401 by default, or HTTP 200 with ret_code
   * `1200` or `2000`). A `routes['/iam/']` handler replaces it. Default `true`.
   */
  /**
   * The app as AppCenter's console launches it, for the emulator's console page (`/console`):
   * `authUrl` (what CreateAppInstance returned in `appInfo.authUrl`; opened with `?token=`) and
   * `appUrl` (the SaaS app URL; opened with `?access_token=…&refresh_token=…`). Absolute http(s)
   * URLs without a fragment. Default: neither (the page says so).
   */
  console?: { authUrl?: string; appUrl?: string };
  /** The app's AppCenter `secret_app_key`, used by `spi()` unless given there. Default: none. */
  secretAppKey?: string;
  cloudApi?:
    | boolean
    | { instances?: Array<Record<string, unknown>>; clockOffset?: number; expiredToken?: 'status' | 1200 | 2000 };
}

/** The endpoints that are counted and can be faulted. `authorize` covers the sign-in page and its form. */
export type EmulatorEndpoint = 'authorize' | 'token' | 'check_token' | 'refresh_token' | 'iam';

/** A failure to inject on an endpoint with {@link Emulator.setFault}. */
export type Fault =
  /** Destroy the socket (TCP reset) without answering. */
  | { type: 'reset' }
  /** Accept the request and never answer (until `close()` or `down()`). */
  | { type: 'hang' }
  /** Answer normally after `delayMs` milliseconds. */
  | { type: 'slow'; delayMs: number }
  /** Answer `status` (e.g. 500/502/503) with `body` (default: a short HTML page) of `contentType` (default `text/html`). */
  | { type: 'status'; status: number; body?: string; contentType?: string }
  /** HTTP 200, `text/html`, not JSON (a proxy's maintenance page). */
  | { type: 'garbage' }
  /** HTTP 200, `application/json`, JSON cut off mid-way. */
  | { type: 'truncated' }
  /** HTTP 200 `{ret_code, message}`; a string `retCode` (`"5100"`) is sent as a JSON string. */
  | { type: 'retCode'; retCode: number | string; message?: string }
  /** An OAuth error `{error, error_description}` with `status` (default 401 for `invalid_token` / `invalid_client`, else 400). */
  | { type: 'oauthError'; error: string; status?: number; description?: string }
  /** HTTP 200 JSON that lacks the documented fields. */
  | { type: 'missingFields' }
  /** HTTP 200 `application/json`, a body of exactly `bytes` bytes (default 10 MB) of JSON-ish filler. */
  | { type: 'huge'; bytes?: number }
  /** Any answer: `status`, `body`, `contentType` (default `application/json`). */
  | { type: 'custom'; status: number; body: string; contentType?: string };

/** Options of {@link Emulator.setFault}. */
export interface FaultOptions {
  /** Apply the fault to the next `times` calls only, then clear it. Default: until cleared. */
  times?: number;
}

/** The options {@link Emulator.setOptions} can change on a running emulator. */
export type EmulatorSettings = Partial<
  Pick<
    EmulatorOptions,
    | 'accessTokenTtl'
    | 'stsTokenTtl'
    | 'codeTtl'
    | 'refreshTokens'
    | 'rotateRefreshTokens'
    | 'refreshTokenTtl'
    | 'errorStyle'
    | 'retCodeOnSuccess'
    | 'retCodeType'
    | 'refreshWithCredentials'
    | 'autoApprove'
  >
>;

/** The `token_issuer` values `/sso/token/` accepts (`iam_jwt`: token type JWT, no refresh token). */
export type TokenIssuer = 'sso' | 'iam' | 'iam_jwt' | 'app' | 'app_dev';

/** Arguments of {@link Emulator.approve}. */
export interface ApproveParams {
  /** Default: the first configured client. */
  clientId?: string;
  /** Must be allowed for the client, exactly as the authorize request would require. */
  redirectUri: string;
  /** Default: the first user. */
  userId?: string;
  /** Issuer used when the token request sends no `token_issuer`. Default `'sso'`. */
  tokenIssuer?: TokenIssuer;
}

/** A token answer, as `/sso/token/` would send it (without `ret_code`). */
export interface IssuedTokens {
  access_token: string;
  /** Seconds. */
  expires_in: number;
  /** `'Bearer'`, or `'JWT'` for `token_issuer=iam_jwt`. */
  token_type: string;
  /** Absent when refresh tokens are off or the issuer is `iam_jwt`. */
  refresh_token?: string;
  /** With `refreshWithCredentials`, refresh answers carry the check_token fields too. */
  access_key?: string;
  secret_key?: string;
  token?: string;
  user?: Record<string, unknown>;
}

/** Options of {@link Emulator.issueTokens}. */
export interface IssueTokensOptions {
  /** Lifetime of this access token, seconds. Default: the `accessTokenTtl` setting. */
  accessTokenTtl?: number;
  /** Issue a refresh token. Default: the `refreshTokens` setting. */
  refreshToken?: boolean;
}

/** The temporary credentials issued for an access key, as {@link Emulator.lookupAccessKey} returns them. */
export interface AccessKeyInfo {
  secretKey: string;
  token: string;
  /** Milliseconds since the epoch (the emulator's clock). */
  expiresAt: number;
  user: EmulatorUser;
}

/** A running emulator. All its state lives in this object. */
export interface Emulator {
  /** Base URL, e.g. `'http://127.0.0.1:41234'` (no trailing slash): use it as `SSO_BASE_URL`. */
  readonly url: string;
  /** The TCP port it listens on (kept across `down()` / `up()`). */
  readonly port: number;
  /** Calls received per endpoint, including faulted and rejected ones (a snapshot). */
  readonly counts: Record<EmulatorEndpoint, number>;
  /** Sets every counter back to 0. */
  resetCounts(): void;
  /** Injects `fault` on `endpoint` (`null` clears it). */
  setFault(endpoint: EmulatorEndpoint, fault: Fault | null, opts?: FaultOptions): void;
  /** Clears the faults of every endpoint. */
  clearFaults(): void;
  /** Changes settings of the running emulator; validated like the constructor options. */
  setOptions(patch: EmulatorSettings): void;
  /** Simulates the user approving an authorize request; returns the code. Throws when the request would be refused. */
  approve(params: ApproveParams): string;
  /** Mints a token set for a user (default: the first) without the browser flow, as if a code had been exchanged by the first client. */
  issueTokens(userId?: string, opts?: IssueTokensOptions): IssuedTokens;
  /**
   * Sends an AppCenter SPI call to the app (`url`: its SPI URL) as the platform does: signed with
   * `secretAppKey` (the emulator option, or `options.secretAppKey`), `time_stamp` from the
   * emulator's clock, retried while the answer is not HTTP 200 JSON `success: true` within 15 s
   * (Create/Renew/Upgrade/Expire/Delete 3 times, TestConnection twice).
   */
  spi(
    url: string,
    action: SpiCallAction,
    params?: SpiCallParams,
    options?: Partial<SpiCallOptions>,
  ): Promise<SpiCallResult>;
  /** Revokes one access token (check_token then fails, and its temporary credentials) or refresh token (refresh then fails). Unknown tokens are ignored. */
  revokeToken(token: string): void;
  /** Revokes every token (and temporary credential) of a user. */
  revokeUser(userId: string): void;
  /** Looks up the temporary credentials issued for an access key (used by the cloud API emulator); `undefined` when unknown or revoked. */
  lookupAccessKey(accessKey: string): AccessKeyInfo | undefined;
  /** Stops accepting connections (clients get ECONNREFUSED) and drops open ones, keeping state and the port. */
  down(): Promise<void>;
  /** Listens again on the same port after `down()`. */
  up(): Promise<void>;
  /** Closes the server and destroys open sockets (hanging requests included). Idempotent. */
  close(): Promise<void>;
}
