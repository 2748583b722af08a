import { createCore } from '../../lib/instance';
import { SsoGuardError } from '../../lib/errors';
import { OUTCOME_TTL_MS } from '../../lib/sso/refresh-coordinator';
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
