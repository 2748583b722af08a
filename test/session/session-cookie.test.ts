import { sessionCookieFor } from '../helpers/parts';
import { type SessionData } from '../../lib/session/session-cookie';
import { OLD_SECRET, SECRET } from '../helpers/options';
import { cookieHeaderShapes, scanned } from '../helpers/scan-work';

const NOW = 1_800_000_000;
const session: SessionData = {
  id: 'sid',
  accessToken: 'access-token-value',
  refreshToken: 'refresh-token-value',
  tokenType: 'Bearer',
  expiresAt: NOW + 3600,
  lifetime: 3600,
  createdAt: NOW,
  touchedAt: NOW,
};

function cookiePairs(setCookie: string[]): string {
  return setCookie
    .map((c) => c.split(';')[0])
    .filter((p) => !p!.endsWith('='))
    .join('; ');
}

function make(overrides = {}) {
  return sessionCookieFor(overrides);
}

describe('SessionCookie', () => {
  it('round-trips a session and never shows the tokens', () => {
    const sc = make();
    const set = sc.serialize(session, NOW, []);
    expect(set).toHaveLength(1);
    expect(set[0]).toMatch(/^sso_session=[A-Za-z0-9_-]+; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(set[0]).not.toContain('access-token-value');
    expect(set[0]).not.toContain('refresh-token-value');
    expect(sc.read(cookiePairs(set))).toEqual({ data: session, names: ['sso_session'], stale: false });
  });

  it('is Secure on https', () => {
    expect(make({ appBaseUrl: 'https://app.test' }).serialize(session, NOW, [])[0]).toMatch(/; Secure$/);
  });

  it('caps Max-Age by the absolute lifetime left', () => {
    const sc = make({ session: { rollingDuration: 1000, absoluteDuration: 5000 } });
    expect(sc.serialize(session, NOW + 4500, [])[0]).toMatch(/Max-Age=500;/);
  });

  it('stays small for a typical session', () => {
    const typical = { ...session, accessToken: 'A'.repeat(43), refreshToken: 'R'.repeat(43), id: 'I'.repeat(22) };
    const [line] = make().serialize(typical, NOW, []);
    expect(line!.split(';')[0]!.length).toBeLessThanOrEqual(450);
  });

  it('chunks past 4 KB, reads the chunks back and clears leftovers', () => {
    const sc = make();
    const big = { ...session, accessToken: 'x'.repeat(5000) };
    const set = sc.serialize(big, NOW, ['sso_session']);
    const names = set.map((c) => c.split('=')[0]);
    expect(names).toEqual(['sso_session.0', 'sso_session.1', 'sso_session']);
    expect(set[2]).toMatch(/Max-Age=0/);
    for (const line of set) expect(line.length).toBeLessThan(4096);
    const read = sc.read(cookiePairs(set));
    expect(read.data).toEqual(big);
    // Back to one cookie: the chunks are cleared.
    const small = sc.serialize(session, NOW, read.names);
    expect(small.map((c) => c.split('=')[0])).toEqual(['sso_session', 'sso_session.0', 'sso_session.1']);
  });

  it('writer and reader agree on the size limit: what is written reads back, what cannot be read is refused', () => {
    // A session over the reader's limit used to be written and never read.
    const sc = make();
    let written = 0;
    let refused = 0;
    for (let size = 4000; size <= 9000; size += 97) {
      const s = { ...session, accessToken: 'y'.repeat(size) };
      let set: string[];
      try {
        set = sc.serialize(s, NOW, []);
      } catch (err) {
        expect(err).toMatchObject({ code: 'upstream_error', status: 502 });
        expect((err as Error).message).toMatch(/too large for a session cookie .*session\.serverSide/);
        expect((err as Error).message).not.toContain('yyyy');
        refused++;
        continue;
      }
      expect(sc.read(cookiePairs(set)).data).toEqual(s);
      written++;
    }
    expect(written).toBeGreaterThan(5);
    expect(refused).toBeGreaterThan(5);
  });

  it('does not read more chunks than the writer writes', () => {
    const sc = make();
    const set = sc.serialize({ ...session, accessToken: 'z'.repeat(5000) }, NOW, []);
    const [c0, c1] = cookiePairs(set).split('; ');
    const v1 = c1!.split('=')[1]!;
    // The same sealed text split over three chunks is not a session this writer would produce.
    const three = `${c0}; sso_session.1=${v1.slice(0, 10)}; sso_session.2=${v1.slice(10)}`;
    expect(sc.read(three).data).toBeUndefined();
  });

  it('reads tampered, truncated, foreign, gapped or garbage cookies as signed out', () => {
    const sc = make();
    const value = cookiePairs(sc.serialize(session, NOW, [])).split('=')[1]!;
    const foreign = cookiePairs(make({ secret: 'z'.repeat(40) }).serialize(session, NOW, []));
    const cases = [
      `sso_session=${value.slice(0, -2)}`,
      `sso_session=${value.slice(0, 10)}X${value.slice(11)}`,
      foreign,
      'sso_session=garbage',
      'sso_session=',
      `sso_session.1=${value}`,
      `sso_session.0=${value.slice(0, 20)}; sso_session.2=${value.slice(20)}`,
    ];
    for (const header of cases) expect(sc.read(header).data).toBeUndefined();
  });

  it('refuses a sealed payload that is not a session', () => {
    const sc = make();
    const bad = { ...session, accessToken: 42 } as unknown as SessionData;
    expect(sc.read(cookiePairs(sc.serialize(bad, NOW, []))).data).toBeUndefined();
  });

  it('opens cookies of an older secret and flags them stale', () => {
    const old = make({ secret: OLD_SECRET });
    const rotated = make({ secret: [SECRET, OLD_SECRET] });
    const read = rotated.read(cookiePairs(old.serialize(session, NOW, [])));
    expect(read.data).toEqual(session);
    expect(read.stale).toBe(true);
    expect(rotated.read(cookiePairs(rotated.serialize(session, NOW, []))).stale).toBe(false);
  });

  it('clears every cookie it was given', () => {
    expect(
      make()
        .clear(['sso_session.0', 'sso_session.1'])
        .map((c) => c.split(';')[0]),
    ).toEqual(['sso_session.0=', 'sso_session.1=']);
  });

  describe('a returning cookie (the hot path)', () => {
    const sc = make();
    const pair = cookiePairs(sc.serialize(session, NOW, []));
    const value = pair.slice('sso_session='.length);

    it('answers the same frozen read each time the header carries the session cookie alone', () => {
      const first = sc.read(`theme=dark; ${pair}; lang=en`);
      expect(first).toEqual({ data: session, names: ['sso_session'], stale: false });
      expect(Object.isFrozen(first)).toBe(true);
      expect(sc.read(pair)).toBe(first);
      expect(sc.read(` ${pair} `)).toBe(first);
      expect(sc.read(`sso_session="${value}"`)).toBe(first);
    });

    it('reads duplicates and chunks as the general reader does: the first one wins, every name is listed', () => {
      expect(sc.read(`${pair}; sso_session=garbage`)).toEqual({
        data: session,
        pointer: undefined,
        names: ['sso_session'],
        stale: false,
      });
      expect(sc.read(`sso_session=garbage; ${pair}`).data).toBeUndefined();
      const mixed = sc.read(`${pair}; sso_session.0=x`);
      expect(mixed.data).toEqual(session);
      expect(mixed.names).toEqual(['sso_session', 'sso_session.0']);
      expect(sc.read('sso_sessionx=1; other=sso_session').data).toBeUndefined();
      expect(sc.read('sso_sessionx=1; other=sso_session').names).toEqual([]);
    });

    it('does not remember a cookie that does not open', () => {
      const bad = sc.read('sso_session=not-a-sealed-session');
      expect(bad).toEqual({ data: undefined, names: ['sso_session'], stale: false });
      expect(sc.read('sso_session=not-a-sealed-session')).not.toBe(bad);
    });
  });
});

describe('SessionCookie.read work', () => {
  const shapes = cookieHeaderShapes('sso_session');
  it.each(Object.keys(shapes))('is linear in the Cookie header size: %s', (kind) => {
    const sc = make();
    for (const n of [4096, 16384]) {
      const header = shapes[kind]!(n);
      // At most a few passes over the header (the sole-cookie scan, then the general reader).
      expect(scanned(header, (h) => sc.read(h))).toBeLessThanOrEqual(6 * header.length);
    }
  });
});
