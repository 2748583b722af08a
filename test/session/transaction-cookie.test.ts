import { transactionCookieFor } from '../helpers/parts';

const NOW = 1_800_000_000_000;
const pair = (setCookie: string) => setCookie.split(';')[0]!;

describe('TransactionCookie', () => {
  const tc = () => transactionCookieFor();

  it('begins with a fresh 256-bit state in an encrypted HttpOnly cookie scoped to the callback', () => {
    const t = tc();
    const { state, setCookie } = t.begin('/profile', NOW);
    expect(Buffer.from(state, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(setCookie).toMatch(
      /^sso_session_txn\.[A-Za-z0-9_-]{8}=[A-Za-z0-9_-]+; Max-Age=600; Path=\/callback; HttpOnly; SameSite=Lax$/,
    );
    expect(setCookie).not.toContain(state);
    expect(setCookie).not.toContain('/profile');
    expect(t.begin('/', NOW).state).not.toBe(state);
  });

  it('takes a transaction once', () => {
    const t = tc();
    const { state, setCookie } = t.begin('/profile', NOW);
    const first = t.take(pair(setCookie), state, NOW + 1000);
    expect(first.txn).toEqual({ state, returnTo: '/profile' });
    expect(first.clear).toEqual([expect.stringMatching(/Max-Age=0/)]);
    expect(t.take(pair(setCookie), state, NOW + 2000).txn).toBeUndefined();
  });

  it('keeps concurrent logins apart (two tabs)', () => {
    const t = tc();
    const a = t.begin('/a', NOW);
    const b = t.begin('/b', NOW, pair(a.index));
    const header = `${pair(a.setCookie)}; ${pair(b.setCookie)}`;
    expect(t.take(header, b.state, NOW).txn?.returnTo).toBe('/b');
    expect(t.take(header, a.state, NOW).txn?.returnTo).toBe('/a');
  });

  it('refuses an expired, forged or foreign transaction', () => {
    const t = tc();
    const { state, setCookie } = t.begin('/p', NOW);
    expect(t.take(pair(setCookie), state, NOW + 601_000).txn).toBeUndefined();
    const t2 = tc();
    const other = t2.begin('/p', NOW);
    const forged = `${other.state.slice(0, -1)}${other.state.endsWith('A') ? 'B' : 'A'}`;
    expect(t2.take(pair(other.setCookie), forged, NOW).txn).toBeUndefined();
    expect(t2.take(`${pair(other.setCookie).split('=')[0]}=garbage`, other.state, NOW).txn).toBeUndefined();
    const foreign = transactionCookieFor({ secret: 'q'.repeat(40) });
    const f = foreign.begin('/x', NOW);
    expect(t2.take(pair(f.setCookie), f.state, NOW).txn).toBeUndefined();
    expect(t2.take(undefined, f.state, NOW)).toEqual({ txn: undefined, clear: undefined });
  });

  it('uses at most four slots, a fifth login deleting the one that expires first; a bad index reads as empty', () => {
    const t = tc();
    let index = '';
    const names: string[] = [];
    const drops: string[][] = [];
    for (let i = 0; i < 6; i++) {
      const started = t.begin(`/t${i}`, NOW + i * 1000, index);
      index = pair(started.index);
      names.push(pair(started.setCookie).split('=')[0]!);
      drops.push(started.drop.map((c) => pair(c).split('=')[0]!));
    }
    expect(new Set(names).size).toBe(6);
    expect(drops).toEqual([[], [], [], [], [names[0]], [names[1]]]);
    expect(
      index
        .split('=')[1]!
        .split('.')
        .map((e) => e.slice(0, 8)),
    ).toEqual(names.slice(2).map((n) => n.split('.')[1]));
    expect(Buffer.byteLength(index)).toBeLessThan(110);
    // Expired slots are free again.
    expect(t.begin('/', NOW + 700_000, index).drop).toEqual([]);
    for (const bad of [
      'sso_session_txn_slots=9-99999999999',
      'sso_session_txn_slots=garbage',
      `sso_session_txn_slots=${'AAAAAAAA-9999999999.'.repeat(7)}`,
    ]) {
      const started = t.begin('/', NOW, bad);
      expect(started.drop).toEqual([]);
      expect(pair(started.index).split('.')).toHaveLength(1);
    }
  });

  it('two logins started from the same Cookie header get different slots, and both complete', () => {
    const t = tc();
    const earlier = t.begin('/e', NOW);
    const a = t.begin('/a', NOW, pair(earlier.index));
    const b = t.begin('/b', NOW, pair(earlier.index));
    expect(pair(a.setCookie).split('=')[0]).not.toBe(pair(b.setCookie).split('=')[0]);
    // The browser keeps b's index (the last written); a's slot is not in it.
    const header = [earlier.setCookie, a.setCookie, b.setCookie, b.index].map(pair).join('; ');
    const takeA = t.take(header, a.state, NOW);
    expect(takeA.txn?.returnTo).toBe('/a');
    expect(t.take(header, b.state, NOW).txn?.returnTo).toBe('/b');
    expect(t.take(header, earlier.state, NOW).txn?.returnTo).toBe('/e');
  });

  it('a callback carrying more than four transaction cookies (logins started at once) deletes the oldest past four', () => {
    const t = tc();
    const started = [0, 1, 2, 3, 4, 5].map((i) => t.begin(`/t${i}`, NOW + i * 1000));
    const header = started.map((s) => pair(s.setCookie)).join('; ');
    const taken = t.take(header, started[5]!.state, NOW + 6000);
    expect(taken.txn?.returnTo).toBe('/t5');
    const cleared = taken.clear!.map((c) => pair(c).split('=')[0]);
    const name = (i: number) => pair(started[i]!.setCookie).split('=')[0];
    expect(cleared).toEqual([name(5), name(0)]);
    expect(pair(taken.index!).split('=')[1]!.split('.')).toHaveLength(4);
  });

  it('frees the slot of a completed login, and deletes the index once none is left', () => {
    const t = tc();
    const a = t.begin('/a', NOW);
    const b = t.begin('/b', NOW, pair(a.index));
    const header = `${pair(a.setCookie)}; ${pair(b.setCookie)}; ${pair(b.index)}`;
    const takeA = t.take(header, a.state, NOW);
    const slotB = pair(b.setCookie).split('=')[0]!.split('.')[1];
    expect(takeA.index).toMatch(new RegExp(`^sso_session_txn_slots=${slotB}-\\d+; Max-Age=600; Path=/;`));
    const takeB = t.take(`${pair(b.setCookie)}; ${pair(takeA.index!)}`, b.state, NOW);
    expect(takeB.index).toMatch(/^sso_session_txn_slots=; Max-Age=0;/);
  });
});
