/**
 * What redisStore must do over any client and topology: commands under its prefix, locks with
 * owners, and pub/sub that reaches every subscriber of the prefix (and only those).
 */
import { redisStore } from '../../lib/store/redis';
import type { SsoStore } from '../../lib/store/types';
import type { Connected } from './redis-clients';
import { uniquePrefix } from './redis';

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
}

/** The store tests, on clients from `connect` (called once per connection the test needs). */
export function storeContractTests(connect: () => Promise<Connected>, clean: (prefix: string) => Promise<void>): void {
  let store: SsoStore;
  let conn: Connected;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    conn = await connect();
    store = redisStore({ client: conn.client, prefix });
  });
  afterAll(async () => {
    await store?.close?.();
    await clean(prefix);
    await conn?.close();
  });

  it('gets, sets with PX and deletes under the prefix', async () => {
    expect(await store.get('k')).toBeUndefined();
    expect(await store.set('k', 'v', 10_000)).toBe(true);
    expect(await store.get('k')).toBe('v');
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
    await store.set('short', 'v', 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.get('short')).toBeUndefined();
  });

  it('takes a lock with NX and releases it only for its owner', async () => {
    expect(await store.set('lock', 'owner-1', 10_000, true)).toBe(true);
    expect(await store.set('lock', 'owner-2', 10_000, true)).toBe(false);
    await store.deleteIfEquals('lock', 'owner-2');
    expect(await store.get('lock')).toBe('owner-1');
    await store.deleteIfEquals('lock', 'owner-1');
    expect(await store.get('lock')).toBeUndefined();
  });

  it('keys of every hash slot: 50 keys written and read back', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `spread:${i}`);
    for (const k of keys) expect(await store.set(k, k, 10_000)).toBe(true);
    for (const k of keys) expect(await store.get(k)).toBe(k);
  });

  it('publishes to every subscriber of the same prefix, on other connections too, and only to those; no spurious resubscription', async () => {
    const others = await Promise.all([connect(), connect()]);
    const stores = [store, ...others.map((o) => redisStore({ client: o.client, prefix }))];
    const foreign = redisStore({ client: conn.client, prefix: `${prefix}other:` });
    const got = stores.map(() => [] as string[]);
    const foreignGot: string[] = [];
    try {
      let restored = 0;
      for (const [i, s] of stores.entries())
        await s.subscribe(
          (m) => got[i]!.push(m),
          () => restored++,
        );
      await foreign.subscribe((m) => foreignGot.push(m));
      await stores[2]!.publish('hello');
      await waitFor(() => got.every((g) => g.length > 0));
      expect(got).toEqual([['hello'], ['hello'], ['hello']]);
      expect(foreignGot).toEqual([]);
      // Nothing was lost meanwhile: no spurious "resubscribed" (each would drop a first level).
      expect(restored).toBe(0);
    } finally {
      for (const s of [...stores.slice(1), foreign]) await s.close?.();
      for (const o of others) await o.close();
    }
  });
}
