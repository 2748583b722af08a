import { createCore } from '../../lib/instance';
import type { SessionData } from '../../lib/session/session-cookie';
import type { SsoStore, SsoStoreTuning } from '../../lib/store/types';
import { fakeClock } from './clock';
import { FakeSso } from './fake-sso';
import { testOptions } from './options';

/**
 * One instance's parts, wired by `createCore` around a FakeSso and a fake clock (no HTTP), with
 * helpers to make sessions and the cookies a browser would send back.
 */
export function coreWorld(opts: { store?: SsoStore & SsoStoreTuning; serverSide?: boolean } = {}) {
  const clock = fakeClock();
  const sso = new FakeSso();
  const core = createCore(testOptions({ session: { serverSide: opts.serverSide } }), {
    sso: sso.asClient(),
    clock,
    store: opts.store,
  });
  const { sessions } = core;
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
  /** The Cookie header a browser sends back for Set-Cookie lines. */
  const cookieFrom = (setCookie: readonly string[]): string => setCookie.map((line) => line.split(';')[0]).join('; ');
  /** The Cookie header a browser sends back for `s`. */
  const cookieOf = (s: SessionData): string => cookieFrom(sessions.serialize(s, nowSec(), []));
  /** The session a response's Set-Cookie lines carry. */
  const sessionIn = (setCookie: string[] | undefined): SessionData | undefined =>
    setCookie === undefined ? undefined : sessions.read(cookieFrom(setCookie)).data;
  return { ...core, clock, sso, policy: core.lifecycle.policy, nowSec, session, cookieFrom, cookieOf, sessionIn };
}

/** A store whose every call fails, as Redis does when it is down. */
export function downStore(): SsoStore & SsoStoreTuning {
  const fail = (): Promise<never> => Promise.reject(new Error('ECONNREFUSED'));
  return { get: fail, set: fail, delete: fail, deleteIfEquals: fail, publish: fail, subscribe: fail, timeout: 50 };
}
