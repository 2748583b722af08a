import { canonicalPath, isPublicPath } from '../../lib/express/public-path';

describe('canonicalPath', () => {
  it.each([
    ['/assets/app.css', '/assets/app.css'],
    ['/assets/my%20file.css', '/assets/my file.css'],
    ['/assets/%61pp.css', '/assets/app.css'],
    ['/', '/'],
  ])('keeps %s as %s', (raw, decoded) => {
    expect(canonicalPath(raw)).toBe(decoded);
  });

  it.each([
    'assets/app.css',
    '/assets/../x',
    '/assets/./x',
    '/assets/..',
    '/assets/.',
    '/assets//x',
    '//x',
    '/a\\b',
    '/a%2fb',
    '/a%2Fb',
    '/a%5cb',
    '/a%00b',
    '/%2e%2e/x',
    '/.%2e/x',
    '/%2E./x',
    '/a/%2e',
    '/a%2F..%2Fb',
    '/%252e%252e/x',
    '/%c0%ae%c0%ae/x',
    '/%ff',
    '/%',
    '/a%0a',
    '/a\tb',
    'http://host/assets/x',
  ])('refuses %s', (raw) => {
    expect(canonicalPath(raw)).toBeUndefined();
  });
});

describe('isPublicPath', () => {
  const exact = ['/health'];
  const prefixes = ['/assets/'];
  it('matches exact paths and prefixes on both the raw and the decoded form', () => {
    expect(isPublicPath('/health', exact, prefixes)).toBe(true);
    expect(isPublicPath('/assets/a.css', exact, prefixes)).toBe(true);
    expect(isPublicPath('/assets/a%20b.css', exact, prefixes)).toBe(true);
    // A router would not see "/assets/" in the raw form: not public.
    expect(isPublicPath('/%61ssets/a.css', exact, prefixes)).toBe(false);
    expect(isPublicPath('/h%65alth', exact, prefixes)).toBe(false);
    expect(isPublicPath('/health/', exact, prefixes)).toBe(false);
    expect(isPublicPath('/assets', exact, prefixes)).toBe(false);
    expect(isPublicPath('/assets/%2e%2e/secret.txt', exact, prefixes)).toBe(false);
    expect(isPublicPath('/anything', [], [])).toBe(false);
  });
});
