import { Authenticator } from '../../lib/auth/authenticate';
import { CredentialRenewal } from '../../lib/auth/credential-renewal';
import { SessionLifecycle } from '../../lib/auth/session-lifecycle';
import { SessionPolicy } from '../../lib/auth/session-policy';
import { resolveConfig } from '../../lib/config';
import { Revocations } from '../../lib/session/revocations';
import { ServerSessions } from '../../lib/session/server-sessions';
import { SessionCookie, type SessionData } from '../../lib/session/session-cookie';
import { CredentialCache } from '../../lib/sso/check-token-cache';
import { RefreshCoordinator } from '../../lib/sso/refresh-coordinator';
import { Shared } from '../../lib/store/shared-store';
import type { SsoStore, SsoStoreTuning } from '../../lib/store/types';
import { fakeClock } from '../helpers/clock';
import { FakeSso } from '../helpers/fake-sso';
import { testOptions } from '../helpers/options';

/** The request-authentication parts of one instance around a FakeSso and a fake clock: no HTTP. */
export function authWorld(opts: { store?: SsoStore & SsoStoreTuning; serverSide?: boolean } = {}) {
  const clock = fakeClock();
  const sso = new FakeSso();
  const config = resolveConfig(testOptions({ clock, store: opts.store, session: { serverSide: opts.serverSide } }), {});
  const client = sso.asClient();
  const cookies = new SessionCookie(config);
  const shared = opts.store === undefined ? undefined : new Shared(opts.store, config.secrets, config.telemetry);
  const cache = new CredentialCache(config, client, shared);
  const server = shared !== undefined && opts.serverSide ? new ServerSessions(shared, 100) : undefined;
  const policy = new SessionPolicy(config.session.absoluteDuration, config.session.rollingDuration);
  const lifecycle = new SessionLifecycle(
    policy,
    cookies,
    cache,
    new Revocations(1000),
    clock,
    config.telemetry,
    shared,
    server,
  );
  const renewal = new CredentialRenewal(
    new RefreshCoordinator(config, client, shared),
    cache,
    lifecycle,
    clock,
    config.cache.ttl,
  );
  const authenticator = new Authenticator(
    { clock, bearer: config.bearer, bearerTtl: config.cache.ttl, authorizer: undefined },
    cookies,
    cache,
    renewal,
    lifecycle,
  );
  const nowSec = (): number => Math.floor(clock() / 1000);
  /** A signed-in session, valid for an hour, written 10 s ago; `over` changes any field. */
  const session = (over: Partial<SessionData> = {}): SessionData => ({
    id: 'sid-1',
    accessToken: 'at-1',
    refreshToken: 'rt-1',
    tokenType: 'Bearer',
    expiresAt: nowSec() + 3600,
    lifetime: 3600,
    createdAt: nowSec() - 10,
    touchedAt: nowSec() - 10,
    ...over,
  });
  /** The Cookie header a browser sends back for `s`. */
  const cookieOf = (s: SessionData): string =>
    cookies
      .serialize(s, nowSec(), [])
      .map((line) => line.split(';')[0])
      .join('; ');
  /** The session a response's Set-Cookie lines carry. */
  const sessionIn = (setCookie: string[] | undefined): SessionData | undefined =>
    setCookie === undefined ? undefined : cookies.read(setCookie.map((line) => line.split(';')[0]).join('; ')).data;
  return {
    clock,
    sso,
    config,
    cookies,
    shared,
    server,
    policy,
    lifecycle,
    renewal,
    authenticator,
    nowSec,
    session,
    cookieOf,
    sessionIn,
  };
}

/** A store whose every call fails, as Redis does when it is down. */
export function downStore(): SsoStore & SsoStoreTuning {
  const fail = (): Promise<never> => Promise.reject(new Error('ECONNREFUSED'));
  return { get: fail, set: fail, delete: fail, deleteIfEquals: fail, publish: fail, subscribe: fail, timeout: 50 };
}
