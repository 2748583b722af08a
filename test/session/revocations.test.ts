import { Revocations } from '../../lib/session/revocations';

describe('Revocations', () => {
  it('revokes a session id until a time, then forgets it', () => {
    const r = new Revocations(10);
    r.add('sid', 1000);
    expect(r.has('sid', 999)).toBe(true);
    expect(r.has('sid', 1000)).toBe(false);
    expect(r.has('other', 0)).toBe(false);
  });
  it('is bounded', () => {
    const r = new Revocations(2);
    r.add('a', 1e15);
    r.add('b', 1e15);
    r.add('c', 1e15);
    expect(r.has('a', 0)).toBe(false);
    expect(r.has('c', 0)).toBe(true);
  });
});
