import { Shared } from '../../lib/store/shared-store';
import { memoryStore } from '../../lib/store/memory';
import type { SsoStore } from '../../lib/store/types';
import { RETRY_INTERVAL_MS, WriteQueue, type QueuedWrite } from '../../lib/store/write-queue';
import { SECRET, testOptions } from '../helpers/options';
import { createCore } from '../../lib/instance';

/** A write that fails while `down.value` is true, recording each attempt. */
function write(name: string, log: string[], down: { value: boolean }, deadline = Infinity): QueuedWrite {
  return {
    deadline,
    attempt: async () => {
      log.push(down.value ? `${name}:failed` : name);
      return !down.value;
    },
  };
}

describe('WriteQueue (writes that must reach the store)', () => {
  afterEach(() => jest.useRealTimers());

  it('writes at once when the store answers', async () => {
    const log: string[] = [];
    const q = new WriteQueue(10);
    expect(await q.add([write('a', log, { value: false }), write('b', log, { value: false })])).toBe(true);
    expect(log).toEqual(['a', 'b']);
    expect(q.size).toBe(0);
  });

  it("keeps failed writes in order and retries them on an unref'd timer, without any new call, until written", async () => {
    jest.useFakeTimers();
    const log: string[] = [];
    const down = { value: true };
    const q = new WriteQueue(10);
    const unref = jest.spyOn(global, 'setInterval');
    expect(await q.add([write('revoke', log, down), write('publish', log, down)])).toBe(false);
    expect(q.size).toBe(2);
    // Stops at the first failure: the event is never sent before its denylist entry.
    expect(log).toEqual(['revoke:failed']);
    const timer = unref.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    await jest.advanceTimersByTimeAsync(RETRY_INTERVAL_MS);
    expect(log).toEqual(['revoke:failed', 'revoke:failed']);
    down.value = false;
    await jest.advanceTimersByTimeAsync(RETRY_INTERVAL_MS);
    expect(log).toEqual(['revoke:failed', 'revoke:failed', 'revoke', 'publish']);
    expect(q.size).toBe(0);
    // Nothing left: the timer is gone.
    expect(jest.getTimerCount()).toBe(0);
    unref.mockRestore();
  });

  it('is bounded: past `max`, the oldest writes are dropped and counted; expired ones are skipped', async () => {
    const log: string[] = [];
    const down = { value: true };
    const q = new WriteQueue(3);
    for (const n of ['1', '2', '3', '4', '5']) await q.add([write(n, log, down)]);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(2);
    down.value = false;
    await q.add([write('expired', log, down, 0)]);
    expect(log.filter((l) => !l.endsWith(':failed'))).toEqual(['4', '5']);
    await q.close();
  });

  it('close() makes one last attempt and stops the timer', async () => {
    jest.useFakeTimers();
    const log: string[] = [];
    const q = new WriteQueue(10);
    await q.add([write('w', log, { value: true })]);
    expect(jest.getTimerCount()).toBe(1);
    await q.close();
    expect(log).toEqual(['w:failed', 'w:failed']);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(RETRY_INTERVAL_MS * 5);
    expect(log).toHaveLength(2);
  });
});

describe('Shared: values bound to purpose and full key', () => {
  /** A memoryStore seen through a prefix, as redisStore reports its own. */
  const withPrefix = (inner: SsoStore, prefix: string): SsoStore => ({ ...inner, prefix });

  it('a value moved under another key, purpose or store prefix reads as a miss', async () => {
    const mem = memoryStore();
    const shared = new Shared(withPrefix(mem, 'app1:'), [SECRET]);
    expect(await shared.put('check:alice', { kind: 'valid' }, 60_000)).toBe(true);
    expect(await shared.get('check:alice')).toEqual({ kind: 'valid' });
    const raw = (await mem.get('check:alice'))!;
    for (const key of ['check:bob', 'refresh:alice', 'session:alice', 'revoked:alice'] as const) {
      await mem.set(key, raw, 60_000);
      expect(await shared.get(key)).toBeUndefined();
    }
    // Same key, same secret, another app's prefix on the same Redis: no.
    expect(await new Shared(withPrefix(mem, 'app2:'), [SECRET]).get('check:alice')).toBeUndefined();
    expect(shared.stats.failures).toBe(0);
  });
});

describe('queued logouts during an outage (issue 20)', () => {
  it('a write whose key is already queued is not queued again, so duplicates never push others out', async () => {
    const log: string[] = [];
    const down = { value: true };
    const q = new WriteQueue(3);
    const keyed = (key: string): QueuedWrite => ({ ...write(key, log, down), key });
    await q.add([keyed('revoked:b'), keyed('publish:r:b')]);
    for (let i = 0; i < 50; i++) await q.add([keyed('revoked:a'), keyed('publish:r:a')]);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(1); // the one a first revocation of "a" needed room for; never for a duplicate
    down.value = false;
    await q.flush();
    expect(log.filter((l) => !l.endsWith(':failed'))).toEqual(['publish:r:b', 'revoked:a', 'publish:r:a']);
    await q.close();
  });

  it("5,000 logouts with an already-revoked cookie do not push another user's queued logout out", async () => {
    const down: SsoStore = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: () => Promise.reject(new Error('down')),
      deleteIfEquals: () => Promise.reject(new Error('down')),
      publish: () => Promise.reject(new Error('down')),
      subscribe: () => Promise.resolve(),
    };
    const now = 1_800_000_000_000;
    const core = createCore(testOptions({ store: Object.assign(down, { timeout: 50 }), clock: () => now }));
    const cookieOf = (id: string): string => {
      const nowSec = now / 1000;
      const s = {
        id,
        accessToken: `at-${id}`,
        tokenType: 'Bearer',
        expiresAt: nowSec + 3600,
        lifetime: 3600,
        createdAt: nowSec,
        touchedAt: nowSec,
      };
      return core.sessions
        .serialize(s, nowSec, [])
        .map((c) => c.split(';')[0])
        .join('; ');
    };
    await core.lifecycle.revokeCookie(cookieOf('victim'));
    const afterVictim = core.shared!.stats.queued;
    expect(afterVictim).toBeGreaterThan(0);
    const attacker = cookieOf('attacker');
    for (let i = 0; i < 5000; i++) await core.lifecycle.revokeCookie(attacker);
    expect(core.shared!.stats.dropped).toBe(0);
    expect(core.shared!.stats.queued).toBe(2 * afterVictim);
    await core.shared!.close();
  }, 30_000);
});
