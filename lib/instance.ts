import { Authenticator } from './auth/authenticate';
import { BearerAuthorizer } from './auth/bearer-authorize';
import { CredentialRenewal } from './auth/credential-renewal';
import { SessionLifecycle } from './auth/session-lifecycle';
import { SessionPolicy } from './auth/session-policy';
import { CloudClockSkew } from './cloud/clock-skew';
import { cloudClients, type CloudClient, type CloudClientOptions } from './cloud/client';
import { createHttpClient } from './sso/http';
import { resolveConfig, type Config } from './config';
import { CredentialCache } from './sso/check-token-cache';
import { RefreshCoordinator } from './sso/refresh-coordinator';
import { Revocations } from './session/revocations';
import { SessionCookie } from './session/session-cookie';
import { ServerSessions } from './session/server-sessions';
import { Shared } from './store/shared-store';
import { SsoClient } from './sso/sso-client';
import { TransactionCookie } from './session/transaction-cookie';
import type { SsoGuardOptions } from './options';

/** Everything one `auth()` instance owns, built once at construction. No module-level state. */
export interface Core {
  readonly config: Config;
  readonly sso: SsoClient;
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

/** Validates the options and builds the parts. Throws `invalid_option` for a bad option. */
export function createCore(options: SsoGuardOptions | undefined): Core {
  const config = resolveConfig(options);
  const sso = new SsoClient(config);
  const sessions = new SessionCookie(config);
  const shared =
    config.store === undefined
      ? undefined
      : new Shared(config.store, config.secrets, config.telemetry, {
          clock: config.clock,
          maxLifetimeMs: config.session.absoluteDuration * 1000,
        });
  const cache = new CredentialCache(config, sso, shared);
  const refresher = new RefreshCoordinator(config, sso, shared);
  // Revocations outlive cache entries (they last a whole session), so they get more room.
  const revocations = new Revocations(Math.max(config.cache.max * 10, 100_000));
  const server =
    shared !== undefined && config.session.serverSide ? new ServerSessions(shared, config.cache.max) : undefined;
  const policy = new SessionPolicy(config.session.absoluteDuration, config.session.rollingDuration);
  const lifecycle = new SessionLifecycle(
    policy,
    sessions,
    cache,
    revocations,
    config.clock,
    config.telemetry,
    shared,
    server,
  );
  const renewal = new CredentialRenewal(refresher, cache, lifecycle, config.clock, config.cache.ttl);
  const authenticator = new Authenticator(
    {
      clock: config.clock,
      bearer: config.bearer,
      bearerTtl: config.cache.ttl,
      authorizer: config.authorize === undefined ? undefined : new BearerAuthorizer(config.authorize, config.cache.max),
    },
    sessions,
    cache,
    renewal,
    lifecycle,
  );
  const ready =
    shared === undefined
      ? Promise.resolve()
      : shared.subscribe((event) => {
          if (event.kind === 'revoke') revocations.add(event.sessionId, event.until);
          else if (event.kind === 'drop') cache.delete(event.hash);
          else {
            cache.clear();
            server?.clear();
          }
        });
  return Object.freeze({
    config,
    sso,
    sessions,
    transactions: new TransactionCookie(config),
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
              clock: config.clock,
              clockSkew: new CloudClockSkew(),
            },
            config.telemetry,
          ),
    loginPath: config.basePath + config.routes.login,
  });
}
