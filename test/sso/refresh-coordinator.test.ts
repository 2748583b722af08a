import { resolveConfig } from '../../lib/config';
import { createCore } from '../../lib/instance';
import { createTelemetry } from '../../lib/telemetry/telemetry';
import { SsoGuardError } from '../../lib/errors';
import { OUTCOME_TTL_MS, RefreshCoordinator, refusalGraceMs } from '../../lib/sso/refresh-coordinator';
import { memoryStore } from '../../lib/store/memory';
import { Shared } from '../../lib/store/shared-store';
import type { SsoStore, SsoStoreTuning } from '../../lib/store/types';
import { fakeClock } from '../helpers/clock';
import { FakeSso, deferred } from '../helpers/fake-sso';
import { testOptions } from '../helpers/options';

function setup() {
  const clock = fakeClock();
  const sso = new FakeSso();
  const r = createCore(testOptions(), { sso: sso.asClient(), clock }).refresher;
  return { clock, sso, r };
}

describe('RefreshCoordinator', () => {
  it('shares one refresh among concurrent callers', async () => {
    const { r, sso } = setup();
    const d = deferred<void>();
    const orig = sso.refreshAnswer;
    sso.refreshAnswer = async (rt) => {
      await d.promise;
      return orig(rt);
    };
    const all = Array.from({ length: 200 }, () => r.refresh('h', 'at', 'rt'));
    d.resolve();
    const out = await Promise.all(all);
    expect(sso.refreshes).toBe(1);
    expect(new Set(out.map((o) => o.tokens.accessToken))).toEqual(new Set(['at-from-rt']));
  });

  it('remembers the outcome for late requests with the old refresh token, then forgets', async () => {
    const { r, sso, clock } = setup();
    const first = await r.refresh('h', 'at', 'rt');
    clock.advance(OUTCOME_TTL_MS - 1);
    expect(await r.refresh('h', 'at', 'rt')).toBe(first);
    expect(sso.refreshes).toBe(1);
    clock.advance(2);
    await r.refresh('h', 'at', 'rt');
    expect(sso.refreshes).toBe(2);
  });

  it('remembers a refusal briefly, but not an upstream failure', async () => {
    const { r, sso, clock } = setup();
    sso.refreshAnswer = async () => {
      throw new SsoGuardError('refresh_rejected', 'no');
    };
    await expect(r.refresh('h', 'at', 'rt')).rejects.toMatchObject({ code: 'refresh_rejected' });
    await expect(r.refresh('h', 'at', 'rt')).rejects.toMatchObject({ code: 'refresh_rejected' });
    expect(sso.refreshes).toBe(1);
    clock.advance(6000);
    sso.refreshAnswer = async () => {
      throw new SsoGuardError('upstream_unavailable', 'down');
    };
    await expect(r.refresh('h', 'at', 'rt')).rejects.toMatchObject({ code: 'upstream_unavailable' });
    await expect(r.refresh('h', 'at', 'rt')).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect(sso.refreshes).toBe(3);
  });
});

/** An SSO that rotates refresh tokens: a refresh token works once, then is refused. */
function rotatingSso(): FakeSso {
  const sso = new FakeSso();
  const used = new Set<string>();
  const issue = sso.refreshAnswer;
  sso.refreshAnswer = async (rt) => {
    if (used.has(rt)) throw new SsoGuardError('refresh_rejected', 'invalid_grant');
    used.add(rt);
    return issue(rt);
  };
  return sso;
}

/**
 * Instances (coordinators with their own Shared) over one in-process store, one SSO and one fake
 * clock. `isolated()` is an instance whose locks only it sees, and whose writes wait for `land()`:
 * one that refreshed without the lock held everywhere and only queued its outcome.
 */
function cluster(sso = rotatingSso()) {
  const clock = fakeClock();
  const store = memoryStore({ clock });
  const config = resolveConfig(testOptions({ clock, store }), {});
  const on = (s: SsoStore & SsoStoreTuning) => {
    const shared = new Shared(s, config.secrets);
    return {
      shared,
      r: new RefreshCoordinator({
        sso: sso.asClient(),
        telemetry: createTelemetry({ logger: config.logger, events: config.events, ssoHost: 'sso.test' }),
        clock,
        shared,
        max: config.cache.max,
        invalidTtl: config.cache.invalidTtl,
        httpTimeout: config.httpTimeout,
        serverSide: config.session.serverSide,
      }),
    };
  };
  let failing = false;
  /** The shared store, as seen through a connection that can fail (`down()`/`up()`). */
  const flaky: SsoStore = {
    get: (k) => (failing ? Promise.reject(new Error('down')) : store.get(k)),
    set: (k, v, ttl, nx) => (failing ? Promise.reject(new Error('down')) : store.set(k, v, ttl, nx)),
    delete: (k) => store.delete(k),
    deleteIfEquals: (k, v) => store.deleteIfEquals(k, v),
    publish: (m) => store.publish(m),
    subscribe: (l) => store.subscribe(l),
  };
  const held = deferred<void>();
  const isolated: SsoStore & SsoStoreTuning = {
    ...flaky,
    // No timeout in the way: the write is late, not lost.
    timeout: 60_000,
    get: (k) => store.get(k),
    set: async (k, v, ttl, nx) => {
      if (nx === true) return true;
      await held.promise;
      return store.set(k, v, ttl);
    },
    deleteIfEquals: async () => undefined,
  };
  return {
    clock,
    sso,
    config,
    grace: refusalGraceMs(config.httpTimeout, new Shared(store, config.secrets)),
    instance: () => on(store),
    flaky: () => on(flaky),
    isolated: () => ({ ...on(isolated), land: () => held.resolve() }),
    down: () => void (failing = true),
  };
}

describe('RefreshCoordinator with a store: a refusal is tentative for the refusal grace window', () => {
  const tentative = { code: 'upstream_unavailable', status: 503 };
  const definitive = { code: 'refresh_rejected', status: 401 };

  it('is derived from httpTimeout, the lock margin, the store timeout and the retry cadences (8.25 s by default)', () => {
    const config = resolveConfig(testOptions(), {});
    expect(refusalGraceMs(config.httpTimeout, new Shared(memoryStore(), config.secrets))).toBe(8250);
    expect(refusalGraceMs(1500, new Shared({ ...memoryStore(), timeout: 1000 }, config.secrets))).toBe(5500);
  });

  it('without a store, a refusal is definitive at once', async () => {
    const { r, sso } = setup();
    sso.refreshAnswer = async () => {
      throw new SsoGuardError('refresh_rejected', 'no');
    };
    await expect(r.refresh('h', 'at', 'rt')).rejects.toMatchObject(definitive);
  });

  it('answers 503 on every instance during the window without asking the SSO again, then ends the session', async () => {
    const { clock, sso, grace, instance } = cluster();
    sso.refreshAnswer = async () => {
      throw new SsoGuardError('refresh_rejected', 'invalid_grant');
    };
    const [a, b] = [instance(), instance()];
    await expect(a.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(tentative);
    await expect(b.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(tentative);
    clock.advance(grace - 1);
    await expect(a.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(tentative);
    await expect(b.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(tentative);
    clock.advance(1);
    await expect(a.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(definitive);
    await expect(b.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(definitive);
    await expect(instance().r.refresh('h', 'at', 'rt')).rejects.toMatchObject(definitive);
    expect(sso.refreshes).toBe(1);
  });

  it('adopts the new tokens of an instance that refreshed without the lock once its write lands, even after the window', async () => {
    const { clock, sso, grace, instance, isolated } = cluster();
    const x = isolated();
    const [a, b] = [instance(), instance()];
    // x refreshes first, holding a lock only it sees; its write of the outcome is late.
    const xs = x.r.refresh('h', 'at', 'rt');
    while (sso.refreshes === 0) await new Promise((r) => setImmediate(r));
    // a takes the real lock, finds no outcome and presents the used refresh token: refused.
    await expect(a.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(tentative);
    await expect(b.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(tentative);
    expect(sso.refreshes).toBe(2);
    x.land();
    const outcome = await xs;
    expect(outcome.tokens.accessToken).toBe('at-from-rt');
    // The new tokens replaced the tentative refusal: adopted everywhere, and they stay adopted.
    expect(await a.r.refresh('h', 'at', 'rt')).toEqual(outcome);
    clock.advance(grace);
    expect(await a.r.refresh('h', 'at', 'rt')).toEqual(outcome);
    expect(await b.r.refresh('h', 'at', 'rt')).toEqual(outcome);
    expect(sso.refreshes).toBe(2);
  });

  it('never writes a refusal over new tokens: written during the refused call, they are adopted at once', async () => {
    const sso = rotatingSso();
    const { instance, isolated } = cluster(sso);
    const x = isolated();
    const a = instance();
    const xs = x.r.refresh('h', 'at', 'rt');
    while (sso.refreshes === 0) await new Promise((r) => setImmediate(r));
    // x's write lands while the SSO answers a's call with a refusal.
    const refuse = sso.refreshAnswer;
    sso.refreshAnswer = async (rt) => {
      x.land();
      await xs;
      return refuse(rt);
    };
    const outcome = await a.r.refresh('h', 'at', 'rt');
    expect(outcome).toEqual(await xs);
    expect(await instance().r.refresh('h', 'at', 'rt')).toEqual(outcome);
  });

  it('when the store cannot be read, the refusal this instance remembers decides: tentative, then definitive', async () => {
    const { clock, sso, grace, flaky, down } = cluster();
    sso.refreshAnswer = async () => {
      throw new SsoGuardError('refresh_rejected', 'invalid_grant');
    };
    const a = flaky();
    await expect(a.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(tentative);
    down();
    await expect(a.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(tentative);
    clock.advance(grace);
    await expect(a.r.refresh('h', 'at', 'rt')).rejects.toMatchObject(definitive);
    expect(sso.refreshes).toBe(1);
  });
});
