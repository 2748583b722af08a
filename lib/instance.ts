import type { AxiosInstance } from 'axios';
import { Authenticator } from './auth/authenticate';
import { CloudClockSkew } from './cloud/clock-skew';
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
  readonly authenticator: Authenticator;
  /** The shared store's view, when a store is configured. */
  readonly shared: Shared | undefined;
  /** Resolves once the instance listens to the store's events (immediately without a store). */
  readonly ready: Promise<void>;
  /** HTTP client of cloud API calls (keep-alive, shared by every request's `req.sso.cloud`). */
  readonly cloudHttp: AxiosInstance;
  /** The cloud API host's clock offset, learned once and used by every request's `req.sso.cloud`. */
  readonly cloudClockSkew: CloudClockSkew;
  /** Relative URL of the login route. */
  readonly loginPath: string;
}

/** Validates the options and builds the parts. Throws `invalid_option` for a bad option. */
export function createCore(options: SsoGuardOptions | undefined): Core {
  const config = resolveConfig(options);
  const sso = new SsoClient(config);
  const sessions = new SessionCookie(config);
  const shared = config.store === undefined ? undefined : new Shared(config.store, config.secrets, config.telemetry);
  const cache = new CredentialCache(config, sso, shared);
  const refresher = new RefreshCoordinator(config, sso, shared);
  // Revocations outlive cache entries (they last a whole session), so they get more room.
  const revocations = new Revocations(Math.max(config.cache.max * 10, 100_000));
  const server = shared !== undefined && config.session.serverSide ? new ServerSessions(shared, config.cache.max) : undefined;
  const authenticator = new Authenticator(config, sessions, cache, refresher, revocations, shared, server);
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
    shared,
    ready,
    cloudHttp: createHttpClient(),
    cloudClockSkew: new CloudClockSkew(),
    loginPath: config.basePath + config.routes.login,
  });
}
