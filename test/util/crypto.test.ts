import { Sealer, randomToken, safeEqual, tokenHash } from '../../lib/util/crypto';
import { OLD_SECRET, SECRET } from '../helpers/options';

describe('Sealer', () => {
  it('round-trips and uses a fresh IV each time', () => {
    const s = new Sealer([SECRET], 'session');
    const a = s.seal('hello');
    expect(s.open(a)).toBe('hello');
    expect(s.seal('hello')).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('does not open what another purpose or secret sealed', () => {
    const sealed = new Sealer([SECRET], 'session').seal('x');
    expect(new Sealer([SECRET], 'transaction').open(sealed)).toBeUndefined();
    expect(new Sealer([OLD_SECRET], 'session').open(sealed)).toBeUndefined();
  });

  it('rotates: the first secret seals, all open, stale ones are flagged', () => {
    const old = new Sealer([OLD_SECRET], 'session');
    const rotated = new Sealer([SECRET, OLD_SECRET], 'session');
    const legacy = old.seal('legacy');
    expect(rotated.open(legacy)).toBe('legacy');
    expect(rotated.isStale(legacy)).toBe(true);
    const fresh = rotated.seal('fresh');
    expect(rotated.isStale(fresh)).toBe(false);
    expect(new Sealer([SECRET], 'session').open(fresh)).toBe('fresh');
  });

  it('opens with one decryption: a foreign key id is refused before any decrypt', () => {
    const rotated = new Sealer([SECRET, OLD_SECRET], 'session');
    const foreign = new Sealer(['f'.repeat(32)], 'session').seal('x');
    const spy = jest.spyOn(require('node:crypto'), 'createDecipheriv');
    expect(rotated.open(foreign)).toBeUndefined();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('refuses every single-bit flip and every truncation', () => {
    const s = new Sealer([SECRET], 'session');
    const buf = Buffer.from(s.seal('{"a":"token"}'), 'base64url');
    for (let i = 0; i < buf.length; i++) {
      const flipped = Buffer.from(buf);
      flipped[i]! ^= 1;
      expect(s.open(flipped.toString('base64url'))).toBeUndefined();
      expect(s.open(buf.subarray(0, i).toString('base64url'))).toBeUndefined();
    }
  });

  it('binds a value to its context (authenticated, not stored): another context, or none, does not open it', () => {
    const s = new Sealer([SECRET], 'store');
    const sealed = s.seal('{"kind":"valid"}', 'p:check:alice');
    expect(s.open(sealed, 'p:check:alice')).toBe('{"kind":"valid"}');
    for (const other of ['p:check:bob', 'p:refresh:alice', 'q:check:alice', 'p:check:alic', '', undefined])
      expect(s.open(sealed, other)).toBeUndefined();
    // Without a context (cookies), nothing changes; a context-free value does not open with one.
    const plain = s.seal('x');
    expect(s.open(plain)).toBe('x');
    expect(s.open(plain, '')).toBeUndefined();
  });

  it('never throws on garbage', () => {
    const s = new Sealer([SECRET], 'session');
    for (const g of ['', 'a', '!!!!', '%%%'.repeat(30), 'A'.repeat(20000), 'AQ'.repeat(40), '\u0000'.repeat(60)])
      expect(s.open(g)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('tokenHash is SHA-256 base64url and never the token', () => {
    expect(tokenHash('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
  it('safeEqual compares with timingSafeEqual', () => {
    const spy = jest.spyOn(require('node:crypto'), 'timingSafeEqual');
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    spy.mockRestore();
  });
  it('randomToken has the asked entropy', () => {
    expect(Buffer.from(randomToken(16), 'base64url')).toHaveLength(16);
    expect(randomToken()).not.toBe(randomToken());
  });
});
