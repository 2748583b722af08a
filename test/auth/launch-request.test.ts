import fc from 'fast-check';
import { MAX_LAUNCH_TOKEN, mayCarryTokens, readLaunch, withoutTokens } from '../../lib/auth/launch-request';

describe('readLaunch', () => {
  it('the launch route: token (console) or access_token + refresh_token (redirect), and returnTo', () => {
    expect(readLaunch('/launch?token=T&returnTo=%2Fa%3Fb%3D1&x=1', true)).toEqual({
      entry: 'launch-console',
      tokens: { accessToken: 'T', refreshToken: undefined },
      path: '/launch',
      query: '?returnTo=%2Fa%3Fb%3D1&x=1',
      returnTo: '/a?b=1',
    });
    expect(readLaunch('/launch?access_token=A&refresh_token=R', true)).toMatchObject({
      entry: 'launch-redirect',
      tokens: { accessToken: 'A', refreshToken: 'R' },
      query: '',
    });
    expect(readLaunch('/launch', true)).toMatchObject({ entry: 'launch-console', tokens: undefined, query: '' });
  });

  it('elsewhere: only access_token / refresh_token; other parameters kept as sent, in order', () => {
    expect(readLaunch('/p?token=T&x=1', false)).toBeUndefined();
    expect(readLaunch('/p', false)).toBeUndefined();
    expect(readLaunch('/p?a=%20b&access_token=A&c&refresh_token=R&token=T', false)).toEqual({
      entry: 'launch-redirect',
      tokens: { accessToken: 'A', refreshToken: 'R' },
      path: '/p',
      query: '?a=%20b&c&token=T',
      returnTo: undefined,
    });
    // Encoded names are the same parameters (as the app's query parser reads them).
    expect(readLaunch('/p?access%5Ftoken=A', false)).toMatchObject({ tokens: { accessToken: 'A' }, query: '' });
  });

  it.each([
    ['repeated access_token', '/p?access_token=A&access_token=A'],
    ['empty access_token', '/p?access_token=&x=1'],
    ['bare access_token', '/p?access_token'],
    ['refresh_token alone', '/p?refresh_token=R'],
    ['repeated refresh_token', '/p?access_token=A&refresh_token=R&refresh_token=S'],
    ['too long', `/p?access_token=${'a'.repeat(MAX_LAUNCH_TOKEN + 1)}`],
  ])('%s: a launch without tokens (sign in again), the parameters stripped', (_label, url) => {
    const read = readLaunch(url, false)!;
    expect(read.tokens).toBeUndefined();
    expect(read.query).not.toMatch(/_token/);
  });

  it('token and access_token together on the launch route are ambiguous', () => {
    expect(readLaunch('/launch?token=T&access_token=A', true)!.tokens).toBeUndefined();
    expect(readLaunch('/launch?token=T&token=T', true)!.tokens).toBeUndefined();
  });

  it('a repeated returnTo is ignored', () => {
    expect(readLaunch('/launch?token=T&returnTo=%2Fa&returnTo=%2Fb', true)!.returnTo).toBeUndefined();
  });

  it('never leaves a token parameter in the query, never loses another (1,000 runs)', () => {
    const name = fc.constantFrom(
      'a',
      'b',
      'x_token',
      'tokens',
      'token',
      'access_token',
      'refresh_token',
      'access%5Ftoken',
      'ref+resh',
    );
    const value = fc.stringMatching(/^[A-Za-z0-9%+._~-]{0,12}$/);
    const part = fc
      .tuple(name, fc.option(value, { nil: undefined }))
      .map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
    fc.assert(
      fc.property(fc.array(part, { minLength: 0, maxLength: 8 }), fc.boolean(), (parts, onRoute) => {
        const url = `/p?${parts.join('&')}`;
        const read = readLaunch(url, onRoute);
        const isToken = (p: string): boolean => {
          const key = decodeURIComponent(p.split('=')[0]!.replace(/\+/g, ' '));
          return key === 'access_token' || key === 'refresh_token' || (onRoute && key === 'token');
        };
        const others = parts.filter((p) => p !== '' && !isToken(p));
        if (read === undefined) {
          expect(onRoute).toBe(false);
          expect(parts.some(isToken)).toBe(false);
          return;
        }
        expect(read.query).toBe(others.length === 0 ? '' : `?${others.join('&')}`);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('mayCarryTokens and withoutTokens', () => {
  it('a substring test on the query only', () => {
    expect(mayCarryTokens('/p?access_token=1')).toBe(true);
    expect(mayCarryTokens('/p?x_token=1')).toBe(true); // then read: no launch
    expect(mayCarryTokens('/access_token/p')).toBe(false);
    expect(mayCarryTokens('/p?token=1')).toBe(false);
  });

  it('strips access_token and refresh_token from a path, keeping the rest and the fragment', () => {
    expect(withoutTokens('/x?access_token=a&k=1&refresh_token=b#top')).toBe('/x?k=1#top');
    expect(withoutTokens('/x?token=a')).toBe('/x?token=a');
    expect(withoutTokens('/x')).toBe('/x');
  });
});
