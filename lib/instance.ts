import { Authenticator } from './auth/authenticate';
import { BearerAuthorizer } from './auth/bearer-authorize';
import { CredentialRenewal } from './auth/credential-renewal';
import { SessionLifecycle } from './auth/session-lifecycle';
import { SessionPolicy } from './auth/session-policy';
import { CloudClockSkew } from './cloud/clock-skew';
import { cloudClients, type CloudClient, type CloudClientOptions } from './cloud/client';
import { createHttpClient } from './util/http';
import { resolveConfig, type Config } from './config';
import { CheckTokenCache } from './sso/check-token-cache';
import { RefreshCoordinator } from './sso/refresh-coordinator';
import { Revocations } from './session/revocations';
import { UserRevocations } from './session/user-revocations';
import { SessionCookie, type SessionCookieOptions } from './session/session-cookie';
import { ServerSessions } from './session/server-sessions';
import { Shared } from './store/shared-store';
import { SsoClient, type SsoClientOptions } from './sso/sso-client';
import { createTelemetry, type Telemetry } from './telemetry/telemetry';
import { TransactionCookie, type TransactionCookieOptions } from './session/transaction-cookie';
import type { SsoGuardOptions } from './options';
import type { SsoStore, SsoStoreTuning } from './store/types';

/** Everything one `auth()` instance owns, built once at construction. No module-level state. */
export interface Core {
  readonly config: Config;
  /** Metrics, spans, events and log lines of this instance. */
  readonly telemetry: Telemetry;
  readonly sso: SsoClient;
  /** check_token answers (cached, coalesced, shared through the store). */
  readonly cache: CheckTokenCache;
  /** One refresh per refresh token (here and, with a store, across instances). */
  readonly refresher: RefreshCoordinator;
  readonly sessions: SessionCookie;
  readonly transactions: TransactionCookie;
  /** Request authentication (the per-request decision). */
  readonly authenticator: Authenticator;
  /** Renewal of a session's tokens and rechecks of its access token. */
  readonly renewal: CredentialRenewal;
  /** Start, cookie writes, logout and revocation of sessions. */
  readonly lifecycle: SessionLifecycle;
  /** The shared store's view, when a store is configured. */
  readonly shared: Shared | undefined;
  /** Resolves once the instance listens to the store's events (immediately without a store). */
  readonly ready: Promise<void>;
  /**
   * Builds a request's `req.sso.cloud` around its credentials, from settings validated once (one
   * keep-alive HTTP client, one learned clock offset of the API host); undefined when
   * `cloud.apiBaseUrl` is not configured.
   */
  readonly cloud: ((getCredentials: CloudClientOptions['getCredentials']) => CloudClient) | undefined;
  /** Relative URL of the login route. */
  readonly loginPath: string;
}

/** The session cookie's options: what of the configuration it is made of. */
export function sessionCookieOptions(config: Config): SessionCookieOptions {
  return {
    secrets: config.secrets,
    name: config.session.name,
    path: config.cookiePath,
    secure: config.secureCookies,
    domain: config.session.domain,
    rollingDuration: config.session.rollingDuration,
    absoluteDuration: config.session.absoluteDuration,
    serverSide: config.session.serverSide,
    max: config.cache.max,
  };
}

/** The transaction cookies' options. */
export function transactionCookieOptions(config: Config): TransactionCookieOptions {
  return {
    secrets: config.secrets,
    name: config.transactionCookieName,
    callbackPath: config.transactionCookiePath,
    indexPath: config.cookiePath,
    secure: config.secureCookies,
    maxAge: config.transactionMaxAge,
    max: config.cache.max,
  };
}

/** The SSO client's options. */
export function ssoClientOptions(config: Config): SsoClientOptions {
  return {
    ssoBaseUrl: config.ssoBaseUrl,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    callbackUrl: config.callbackUrl,
    authorizationParams: config.authorizationParams,
    tokenIssuer: config.tokenIssuer,
    userVerify: config.userVerify,
    httpTimeout: config.httpTimeout,
    httpClient: config.httpClient,
  };
}

/**
 * Parts `createCore` builds from the options unless given: the seams tests (and embedders) use to
 * put a fake SSO, a fake clock or a store of their own under a real instance.
 */
export interface CoreParts {
  /** The SSO client (default: one over HTTP to `ssoBaseUrl`). */
  readonly sso?: SsoClient;
  /** The clock, ms since the epoch (default: the `clock` option, `Date.now`). */
  readonly clock?: () => number;
  /** The shared store (default: the `store` option, none). */
  readonly store?: SsoStore & SsoStoreTuning;
}

/**
 * The one place the parts are wired: validates the options, builds each part from them (and from
 * `parts`). Throws `invalid_option` for a bad option.
 */
export function createCore(options: SsoGuardOptions | undefined, parts: CoreParts = {}): Core {
  const given =
    parts.clock === undefined && parts.store === undefined
      ? options
      : { ...options, clock: parts.clock ?? options?.clock, store: parts.store ?? options?.store };
  const config = resolveConfig(given);
  const { clock } = config;
  const telemetry = createTelemetry({
    logger: config.logger,
    events: config.events,
    ssoHost: new URL(config.ssoBaseUrl).hostname,
  });
  const sso = parts.sso ?? new SsoClient(ssoClientOptions(config), telemetry);
  const sessions = new SessionCookie(sessionCookieOptions(config));
  const shared =
    config.store === undefined
      ? undefined
      : new Shared(config.store, config.secrets, (what, first, why) => telemetry.storeFallback(what, first, why), {
          clock,
          maxLifetimeMs: config.session.absoluteDuration * 1000,
        });
  const { max, ttl, invalidTtl } = config.cache;
  const cache = new CheckTokenCache({ sso, telemetry, clock, shared, max, ttl, invalidTtl });
  const refresher = new RefreshCoordinator({
    sso,
    telemetry,
    clock,
    shared,
    max,
    invalidTtl,
    httpTimeout: config.httpTimeout,
    serverSide: config.session.serverSide,
  });
  // Revocations outlive cache entries (they last a whole session), so they get more room.
  const revocations = new Revocations(Math.max(max * 10, 100_000));
  const users = new UserRevocations(Math.max(max, 10_000), config.session.absoluteDuration * 1000, clock);
  const server = shared !== undefined && config.session.serverSide ? new ServerSessions(shared, max) : undefined;
  const policy = new SessionPolicy(config.session.absoluteDuration, config.session.rollingDuration);
  const lifecycle = new SessionLifecycle({
    policy,
    cookies: sessions,
    cache,
    revocations,
    users,
    clock,
    telemetry,
    shared,
    server,
  });
  const renewal = new CredentialRenewal({ refresher, cache, lifecycle, clock, unknownExpiryTtl: config.cache.ttl });
  const authenticator = new Authenticator({
    options: {
      clock,
      bearer: config.bearer,
      bearerTtl: config.cache.ttl,
      authorizer: config.authorize === undefined ? undefined : new BearerAuthorizer(config.authorize, config.cache.max),
    },
    cookies: sessions,
    cache,
    renewal,
    lifecycle,
  });
  const ready =
    shared === undefined
      ? Promise.resolve()
      : shared.subscribe((event) => {
          if (event.kind === 'revoke') revocations.add(event.sessionId, event.until);
          else if (event.kind === 'drop') cache.delete(event.hash);
          else if (event.kind === 'user') lifecycle.userRevoked(event.userKey, event.notBefore);
          else {
            cache.clear();
            users.forgetAsked();
            server?.clear();
          }
        });
  return Object.freeze({
    config,
    sso,
    sessions,
    telemetry,
    transactions: new TransactionCookie(transactionCookieOptions(config)),
    cache,
    refresher,
    authenticator,
    renewal,
    lifecycle,
    shared,
    ready,
    cloud:
      config.cloud.apiBaseUrl === undefined
        ? undefined
        : cloudClients(
            {
              ...config.cloud,
              origin: config.cloud.apiBaseUrl,
              http: createHttpClient(),
              clock,
              clockSkew: new CloudClockSkew(),
            },
            telemetry,
          ),
    loginPath: config.basePath + config.routes.login,
  });
}
