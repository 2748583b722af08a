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
      /^sso_session_txn\.0=[A-Za-z0-9_-]+; Max-Age=600; Path=\/callback; HttpOnly; SameSite=Lax$/,
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
    expect(first.clear).toMatch(/Max-Age=0/);
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

  it('uses at most four slots, a fifth login taking the one that expires first; a bad index reads as empty', () => {
    const t = tc();
    let index = '';
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const started = t.begin(`/t${i}`, NOW + i * 1000, index);
      index = pair(started.index);
      names.push(pair(started.setCookie).split('=')[0]!);
    }
    expect(names).toEqual([
      'sso_session_txn.0',
      'sso_session_txn.1',
      'sso_session_txn.2',
      'sso_session_txn.3',
      'sso_session_txn.0',
      'sso_session_txn.1',
    ]);
    // Expired slots are free again.
    expect(pair(t.begin('/', NOW + 700_000, index).setCookie)).toMatch(/^sso_session_txn\.0=/);
    for (const bad of [
      'sso_session_txn_slots=9-99999999999',
      'sso_session_txn_slots=garbage',
      `sso_session_txn_slots=${'0-1.'.repeat(60)}`,
    ]) {
      expect(pair(t.begin('/', NOW, bad).setCookie)).toMatch(/^sso_session_txn\.0=/);
    }
  });

  it('frees the slot of a completed login, and deletes the index once none is left', () => {
    const t = tc();
    const a = t.begin('/a', NOW);
    const b = t.begin('/b', NOW, pair(a.index));
    const header = `${pair(a.setCookie)}; ${pair(b.setCookie)}; ${pair(b.index)}`;
    const takeA = t.take(header, a.state, NOW);
    expect(takeA.index).toMatch(/^sso_session_txn_slots=1-\d+; Max-Age=600; Path=\/;/);
    const takeB = t.take(`${pair(b.setCookie)}; ${pair(takeA.index!)}`, b.state, NOW);
    expect(takeB.index).toMatch(/^sso_session_txn_slots=; Max-Age=0;/);
  });
});
