import { readCookies, serializeCookie } from '../../lib/session/cookies';
import { cookieHeaderShapes, scanned } from '../helpers/scan-work';

describe('readCookies', () => {
  it('collects only the named cookie and its chunks', () => {
    const jar = readCookies('a=1; sso=x; sso.0=y;  sso.1 = z ; sso_txn.q=w; other=sso', 'sso');
    expect([...jar!]).toEqual([
      ['sso', 'x'],
      ['sso.0', 'y'],
      ['sso.1', 'z'],
    ]);
  });
  it('returns undefined without a header or a match', () => {
    expect(readCookies(undefined, 'sso')).toBeUndefined();
    expect(readCookies('a=b', 'sso')).toBeUndefined();
  });
  it('keeps the first of duplicated names and unquotes', () => {
    expect(readCookies('sso="first"; sso=second', 'sso')!.get('sso')).toBe('first');
  });
  it('tolerates garbage', () => {
    for (const h of ['sso', ';;;', 'sso=', '=sso', 'sso;sso=1', '\u0000sso=\uffff', 'sso==='.repeat(1000)])
      expect(() => readCookies(h, 'sso')).not.toThrow();
    expect(readCookies('sso;sso=1', 'sso')!.get('sso')).toBe('1');
  });
});

describe('readCookies work', () => {
  const headers = cookieHeaderShapes('sso_session');
  it.each(Object.keys(headers))('is linear in the header size: %s', (kind) => {
    for (const n of [4096, 16384]) {
      const header = headers[kind]!(n);
      expect(readCookies(header, 'sso_session')!.get('sso_session')).toBe('abc');
      // At most a few passes over the header, whatever its shape (today's quadratic scan of 16 KB
      // of ";" reads ~134 million characters).
      expect(scanned(header, (h) => readCookies(h, 'sso_session'))).toBeLessThanOrEqual(3 * header.length);
    }
  });
});

describe('serializeCookie', () => {
  it('is HttpOnly, SameSite=Lax, Path, Max-Age; Secure and Domain when asked', () => {
    expect(serializeCookie('n', 'v', { maxAge: 60.7, path: '/', secure: false })).toBe(
      'n=v; Max-Age=60; Path=/; HttpOnly; SameSite=Lax',
    );
    expect(serializeCookie('n', 'v', { maxAge: 60, path: '/cb', secure: true, domain: 'app.test' })).toBe(
      'n=v; Max-Age=60; Path=/cb; HttpOnly; SameSite=Lax; Secure; Domain=app.test',
    );
  });
  it('expires deleted cookies', () => {
    expect(serializeCookie('n', '', { maxAge: 0, path: '/', secure: false })).toMatch(
      /Max-Age=0; .*Expires=Thu, 01 Jan 1970/,
    );
  });
});
