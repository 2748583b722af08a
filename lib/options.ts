import type { Request } from 'express';
import type { AxiosInstance } from 'axios';
import type { SsoStore, SsoStoreTuning } from './store/types';
import type { SsoUser } from './sso/sso-client';
import type { SsoGuardEvents } from './telemetry/events';
import type { SsoGuardLogger } from './telemetry/logger';

/** Options of the session cookie. */
export interface SessionOptions {
  /** Cookie name. Chunks of a large session are named `<name>.0`, `<name>.1`, … Default `sso_session`. */
  name?: string;
  /** Idle lifetime in seconds: a session unused this long ends. Default 86400 (1 day). */
  rollingDuration?: number;
  /** Absolute lifetime in seconds from sign-in, whatever the activity. Default 604800 (7 days). */
  absoluteDuration?: number;
  /**
   * Cookie `Domain` attribute. Default: none (host-only cookie, the safer choice).
   */
  domain?: string;
  /**
   * Keep the tokens in the shared `store` (encrypted) and only a random session id in the cookie:
   * a small cookie, and a logout that deletes the tokens themselves. Requires `store`; while the
   * store is unreachable, sessions not in the in-process first level answer 503. Default false.
   */
  serverSide?: boolean;
}

/** Options of the check_token cache. */
export interface CacheOptions {
  /** Most distinct access tokens kept in memory. Default 10000. The cache is always bounded. */
  max?: number;
  /**
   * Longest time, in seconds, a check_token answer is reused. The effective TTL is also capped by
   * the access token's expiry and by the temporary credential's `exp`. Default 300.
   */
  ttl?: number;
  /** Seconds an "invalid token" answer is remembered, so a bad token cannot hammer the SSO. Default 5. */
  invalidTtl?: number;
}

/** Paths of the routes `auth()` serves, relative to where it is mounted (mount it at the app root). */
export interface RoutesOptions {
  /** Default `/login`. */
  login?: string;
  /** Default `/callback`. Its absolute URL (`appBaseUrl` + this) is the `redirect_uri` sent to the SSO. */
  callback?: string;
  /** Default `/logout`. */
  logout?: string;
}

/** Options of `auth()`. Every option not given falls back to its environment variable or default. */
export interface SsoGuardOptions {
  /** The SSO server's origin, e.g. `https://sso.example.com`. Default `process.env.SSO_BASE_URL`. */
  ssoBaseUrl?: string;
  /**
   * AppCenter's `cloud_info` (base64 of JSON `{ "sso_server", "api_server" }`, see
   * `parseCloudInfo`): sets `ssoBaseUrl` and `cloud.apiBaseUrl` together, and cannot be combined
   * with them. Default `process.env.APPCENTER_CLOUD_INFO`, which fills only the addresses that
   * neither their option nor `SSO_BASE_URL` / `CLOUD_API_URL` give.
   */
  cloudInfo?: string;
  /** OAuth client id. Default `process.env.SSO_CLIENT_ID`. */
  clientId?: string;
  /** OAuth client secret. Default `process.env.SSO_CLIENT_SECRET`. Never logged. */
  clientSecret?: string;
  /**
   * Secret (≥ 32 characters) from which the cookie keys are derived. An array rotates secrets: the
   * first seals, every one opens. Default `process.env.SESSION_SECRET`.
   */
  secret?: string | string[];
  /** This app's public origin (and optional base path), e.g. `https://app.example.com`. Default `process.env.APP_BASE_URL`. */
  appBaseUrl?: string;
  /** When true (default), every route behind `auth()` requires a session, except `publicPaths` and the auth routes. */
  authRequired?: boolean;
  /**
   * Paths that stay public when `authRequired` is true: exact paths (`/health`) or prefixes ending in `/*`
   * (`/public/*`). Default `[]`.
   */
  publicPaths?: string[];
  /** Route paths. */
  routes?: RoutesOptions;
  /** Session cookie. */
  session?: SessionOptions;
  /** Lifetime of the login transaction cookie, in seconds. Default 600 (10 minutes, the most allowed). */
  transactionMaxAge?: number;
  /** check_token cache. */
  cache?: CacheOptions;
  /**
   * Sent as `token_issuer` on the token request when set: `sso`, `iam`, `iam_jwt` (token type
   * JWT, no refresh token: the user signs in again when it expires), `app` or `app_dev`.
   * Default: not sent.
   */
  tokenIssuer?: 'sso' | 'iam' | 'iam_jwt' | 'app' | 'app_dev';
  /**
   * Extra query parameters of the SSO authorize URL (`/sso/oauth2/`), e.g.
   * `{ redirect_url: 'https://app.example.com/callback', lang: 'zh-cn' }`. String values only;
   * `client_id`, `response_type`, `redirect_uri` and `state` cannot be set. Default `{}`.
   */
  authorizationParams?: Record<string, string>;
  /** Sends `is_filter_user_verify=1` so `user.user_verify` is filled. Default false. */
  userVerify?: boolean;
  /** Deadline of every SSO call, in milliseconds. Default 5000. */
  httpTimeout?: number;
  /**
   * Also accept `Authorization: Bearer <SSO access token>` from API clients (checked with check_token,
   * never refreshed). Default false.
   */
  bearer?: boolean;
  /**
   * When true (default) the middleware answers its own errors with a short JSON or HTML body.
   * When false it calls `next(err)` with an `SsoGuardError` (with `status`) for the app's error handler.
   */
  renderErrors?: boolean;
  /**
   * A shared store for several instances, e.g. `redisStore({ client })`: the check_token cache,
   * refresh coordination and logout revocation are then shared, with the in-process cache kept in
   * front. Default: none (in-process only).
   */
  store?: SsoStore & SsoStoreTuning;
  /** Cloud API client on `req.sso.cloud`. */
  cloud?: CloudOptions;
  /** Clock in milliseconds since the epoch. Default `Date.now`. For tests. */
  clock?: () => number;
  /** axios instance for SSO calls. Default: a keep-alive instance of the package's own. */
  httpClient?: AxiosInstance;
  /**
   * Decides who may sign in: called once per sign-in (after check_token, before the session
   * cookie is written) and once per Bearer token on first sight, with the check_token user and
   * the request. Sync or async: `true` admits; anything else (`false`) refuses with 403 (a page
   * or JSON), creates no session and emits no `login`; a thrown error goes to `next(err)`.
   * Default: everyone the SSO signs in.
   */
  authorize?: (user: SsoUser, req: Request) => boolean | Promise<boolean>;
  /** Listeners of `login`, `logout`, `refresh`, `sessionEnd`, `ssoError` (fire-and-forget). Default: none. */
  events?: SsoGuardEvents;
  /**
   * The package's own log lines (warn: SSO errors, store fallback; info: sign-in, sign-out; error:
   * a failing event listener): any object with `debug`/`info`/`warn`/`error` (pino, winston,
   * `console`). Default: the `debug` namespace `express-sso-guard:events`.
   */
  logger?: SsoGuardLogger;
}

/** Options of the cloud API client (`req.sso.cloud`). */
export interface CloudOptions {
  /** The cloud API origin; the client calls `<apiBaseUrl>/iam/`. Default `process.env.CLOUD_API_URL`. */
  apiBaseUrl?: string;
  /** `signature_version` sent with temporary credentials. Default 2. */
  signatureVersion?: 1 | 2;
  /** Deadline of each call, in milliseconds. Default `httpTimeout`. */
  timeout?: number;
  /** Zone added when a call names none. Default: none. */
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

/** Predicate used by `publicPaths` resolution. */
export type PathMatcher = (req: Request) => boolean;
