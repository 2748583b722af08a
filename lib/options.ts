import type { Request } from 'express';
import type { AxiosInstance } from 'axios';
import type { SsoStore, SsoStoreTuning } from './store/types';
import type { SsoUser } from './sso/types';
import type { SsoGuardEvents } from './telemetry/events';
import type { SsoGuardLogger } from './telemetry/logger';
import type { LanguageSetting } from './i18n/language';
import type { RenderPage } from './i18n/pages';

/** A duration in seconds. */
export type Seconds = number;
/** A duration in milliseconds. */
export type Milliseconds = number;

/** Options of the session cookie. */
export interface SessionOptions {
  /**
   * Cookie name. Chunks of a large session are named `<name>.0`, `<name>.1`, …
   * @default 'sso_session'
   */
  name?: string;
  /**
   * Idle lifetime: a session unused this long ends (1 day by default).
   * @default 86400
   */
  rollingDuration?: Seconds;
  /**
   * Absolute lifetime from sign-in, whatever the activity (7 days by default).
   * @default 604800
   */
  absoluteDuration?: Seconds;
  /**
   * Cookie `Domain` attribute. By default none: a host-only cookie, the safer choice.
   * @default none
   */
  domain?: string;
  /**
   * Keep the tokens in the shared `store` (encrypted) and only a random session id in the cookie:
   * a small cookie, and a logout that deletes the tokens themselves. Requires `store`; while the
   * store is unreachable, sessions not in the in-process first level answer 503.
   * @default false
   */
  serverSide?: boolean;
}

/** Options of the check_token cache. */
export interface CacheOptions {
  /**
   * Most distinct access tokens kept in memory. The cache is always bounded.
   * @default 10000
   */
  max?: number;
  /**
   * Longest time a check_token answer is reused. The effective TTL is also capped by the access
   * token's expiry and by the temporary credential's `exp`.
   * @default 300
   */
  ttl?: Seconds;
  /**
   * How long an "invalid token" answer is remembered, so a bad token cannot hammer the SSO.
   * @default 5
   */
  invalidTtl?: Seconds;
}

/** Paths of the routes `auth()` serves, relative to where it is mounted (mount it at the app root). */
export interface RoutesOptions {
  /** @default '/login' */
  login?: string;
  /**
   * Its absolute URL (`appBaseUrl` + this) is the `redirect_uri` sent to the SSO.
   * @default '/callback'
   */
  callback?: string;
  /** @default '/logout' */
  logout?: string;
  /**
   * The console launch route (`GET ?token=`), served only with `launch: true`: the `authUrl` to
   * give AppCenter is `appBaseUrl` + this.
   * @default '/launch'
   */
  launch?: string;
}

/** Options of `auth()`. Every option not given falls back to its environment variable or default. */
export interface SsoGuardOptions {
  /**
   * The SSO server's origin, e.g. `https://sso.example.com`. Required.
   * @default process.env.SSO_BASE_URL
   */
  ssoBaseUrl?: string;
  /**
   * AppCenter's `cloud_info` (base64 of JSON `{ "sso_server", "api_server" }`, see
   * `parseCloudInfo`): sets `ssoBaseUrl` and `cloud.apiBaseUrl` together, and cannot be combined
   * with them. `APPCENTER_CLOUD_INFO` fills only the addresses that neither their option nor
   * `SSO_BASE_URL` / `CLOUD_API_URL` give.
   * @default process.env.APPCENTER_CLOUD_INFO
   */
  cloudInfo?: string;
  /**
   * OAuth client id. Required.
   * @default process.env.SSO_CLIENT_ID
   */
  clientId?: string;
  /**
   * OAuth client secret. Never logged. Required.
   * @default process.env.SSO_CLIENT_SECRET
   */
  clientSecret?: string;
  /**
   * Secret (≥ 32 characters) from which the cookie keys are derived. An array rotates secrets: the
   * first seals, every one opens. Required.
   * @default process.env.SESSION_SECRET
   */
  secret?: string | string[];
  /**
   * This app's public origin (and optional base path), e.g. `https://app.example.com`. Required.
   * @default process.env.APP_BASE_URL
   */
  appBaseUrl?: string;
  /**
   * When true, every route behind `auth()` requires a session, except `publicPaths` and the auth routes.
   * @default true
   */
  authRequired?: boolean;
  /**
   * Paths that stay public when `authRequired` is true: exact paths (`/health`) or prefixes ending in `/*`
   * (`/public/*`).
   * @default []
   */
  publicPaths?: string[];
  /** Route paths. */
  routes?: RoutesOptions;
  /**
   * Accept launches from the AppCenter console (`GET routes.launch?token=`) and the SaaS redirect
   * (a GET navigation to any path with `?access_token=&refresh_token=`): the token is checked with
   * check_token, a session started, and the browser sent on to the same URL without the tokens.
   * An invalid token starts a normal sign-in; a launch as another user than the signed-in one asks
   * first. See "Launching from the AppCenter console" in the README.
   * @default false
   */
  launch?: boolean;
  /** Session cookie. */
  session?: SessionOptions;
  /**
   * Lifetime of the login transaction cookie (10 minutes, the most allowed).
   * @default 600
   */
  transactionMaxAge?: Seconds;
  /** check_token cache. */
  cache?: CacheOptions;
  /**
   * Sent as `token_issuer` on the token request when set: `sso`, `iam`, `iam_jwt` (token type
   * JWT, no refresh token: the user signs in again when it expires), `app` or `app_dev`.
   * @default none
   */
  tokenIssuer?: 'sso' | 'iam' | 'iam_jwt' | 'app' | 'app_dev';
  /**
   * Extra query parameters of the SSO authorize URL (`/sso/oauth2/`), e.g.
   * `{ redirect_url: 'https://app.example.com/callback', lang: 'zh-cn' }`. String values only;
   * `client_id`, `response_type`, `redirect_uri` and `state` cannot be set.
   * @default {}
   */
  authorizationParams?: Record<string, string>;
  /**
   * Sends `is_filter_user_verify=1` so `user.user_verify` is filled.
   * @default false
   */
  userVerify?: boolean;
  /**
   * Deadline of every SSO call (connect, headers and body), a whole number.
   * @default 5000
   */
  httpTimeout?: Milliseconds;
  /**
   * Also accept `Authorization: Bearer <SSO access token>` from API clients (checked with check_token,
   * never refreshed).
   * @default false
   */
  bearer?: boolean;
  /**
   * When true the middleware answers its own errors with a short JSON or HTML body. When false it
   * calls `next(err)` with an `SsoGuardError` (with `status`) for the app's error handler.
   * @default true
   */
  renderErrors?: boolean;
  /**
   * Language of the pages and JSON messages the middleware renders: `auto` picks English or
   * Simplified Chinese from each request's `Accept-Language` (`zh`, `zh-CN`, `zh-Hans` → `zh-CN`),
   * `en` or `zh-CN` fixes it.
   * @default 'auto'
   */
  language?: LanguageSetting;
  /**
   * Replaces any page the middleware renders (see `PageKind`): called with the kind and its
   * context (language, status, title, message, code or form; never a token), it returns the HTML
   * to send, or undefined for the built-in page. A throw is logged and the built-in page sent.
   * The page keeps its status, `Cache-Control: no-store` and `Content-Security-Policy`.
   * @default none (the built-in pages)
   */
  renderPage?: RenderPage;
  /**
   * Send `Cache-Control: no-store` on every response to an authenticated request (set before your
   * route runs, so a route may set its own), so that after sign-out the browser's Back button
   * cannot show a signed-in page from the HTTP cache. `false` leaves caching headers to the app.
   * Logout always answers with `Clear-Site-Data: "cache"`.
   * @default true
   */
  noStore?: boolean;
  /**
   * A shared store for several instances, e.g. `redisStore({ client })`: the check_token cache,
   * refresh coordination and logout revocation are then shared, with the in-process cache kept in
   * front. By default none (in-process only).
   * @default none
   */
  store?: SsoStore & SsoStoreTuning;
  /** Cloud API client on `req.sso.cloud`. */
  cloud?: CloudOptions;
  /**
   * Clock in milliseconds since the epoch. For tests.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * axios instance for SSO calls, e.g. one with your interceptors or proxy agent. Any instance
   * works: every request sets what the package relies on (text body, no JSON transform, every
   * status answered, no redirects, bounded body size), overriding the instance's defaults for those.
   * By default the package's own keep-alive client on Node's http (axios is then never loaded).
   * @default none
   */
  httpClient?: AxiosInstance;
  /**
   * Decides who may sign in: called once per sign-in (after check_token, before the session
   * cookie is written) and once per Bearer token on first sight, with the check_token user and
   * the request. Sync or async: `true` admits; anything else (`false`) refuses with 403 (a page
   * or JSON), creates no session and emits no `login`; a thrown error goes to `next(err)`.
   * @default none (everyone the SSO signs in)
   */
  authorize?: (user: SsoUser, req: Request) => boolean | Promise<boolean>;
  /**
   * Listeners of `login`, `logout`, `refresh`, `sessionEnd`, `ssoError` (fire-and-forget).
   * @default none
   */
  events?: SsoGuardEvents;
  /**
   * The package's own log lines (warn: SSO errors, store fallback; info: sign-in, sign-out; error:
   * a failing event listener): any object with `debug`/`info`/`warn`/`error` (pino, winston,
   * `console`).
   * @default none (the `debug` namespace `express-sso-guard:events`)
   */
  logger?: SsoGuardLogger;
}

/** Options of the cloud API client (`req.sso.cloud`), validated by `auth()`. */
export interface CloudOptions {
  /**
   * The cloud API origin, with no path: the client calls `<apiBaseUrl>/iam/`.
   * @default process.env.CLOUD_API_URL
   */
  apiBaseUrl?: string;
  /**
   * `signature_version` sent with temporary credentials.
   * @default 2
   */
  signatureVersion?: 1 | 2;
  /**
   * Deadline of each call, a whole number.
   * @default httpTimeout
   */
  timeout?: Milliseconds;
  /**
   * Zone added when a call names none: a zone id such as `pek3`.
   * @default none
   */
  zone?: string;
}

/** Options of `requiresAuth()`. */
export interface RequiresAuthOptions {
  /**
   * How to answer an unauthenticated request. `auto` (default): redirect navigations to login, 401
   * JSON otherwise. `redirect` or `401` forces one.
   */
  mode?: 'auto' | 'redirect' | '401';
}
