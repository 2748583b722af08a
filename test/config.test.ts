import { resolveConfig } from '../lib/config';
import { SsoGuardError } from '../lib/errors';
import { testOptions } from './helpers/options';

function errorOf(fn: () => unknown): SsoGuardError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SsoGuardError);
    return err as SsoGuardError;
  }
  throw new Error('expected a throw');
}

describe('resolveConfig', () => {
  it('resolves defaults and freezes the result', () => {
    const c = resolveConfig(testOptions(), {});
    expect(c.routes).toEqual({ login: '/login', callback: '/callback', logout: '/logout' });
    expect(c.callbackUrl).toBe('http://app.test/callback');
    expect(c.session).toMatchObject({ name: 'sso_session', rollingDuration: 86400, absoluteDuration: 604800 });
    expect(c.cache).toEqual({ max: 10000, ttl: 300, invalidTtl: 5 });
    expect(c.httpTimeout).toBe(5000);
    expect(c.authRequired).toBe(true);
    expect(c.secureCookies).toBe(false);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.session)).toBe(true);
  });

  it('reads SSO_BASE_URL, SSO_CLIENT_ID, SSO_CLIENT_SECRET, SESSION_SECRET and APP_BASE_URL', () => {
    const c = resolveConfig({}, {
      SSO_BASE_URL: 'https://sso.example.com/',
      SSO_CLIENT_ID: 'cid',
      SSO_CLIENT_SECRET: 'csecret',
      SESSION_SECRET: 'x'.repeat(32),
      APP_BASE_URL: 'https://app.example.com/base/',
    });
    expect(c.ssoBaseUrl).toBe('https://sso.example.com');
    expect(c.clientId).toBe('cid');
    expect(c.appBaseUrl).toBe('https://app.example.com/base');
    expect(c.callbackUrl).toBe('https://app.example.com/base/callback');
    expect(c.secureCookies).toBe(true);
  });

  it('names the option, the expected shape and the value', () => {
    expect(errorOf(() => resolveConfig(testOptions({ session: { absoluteDuration: -5 } }), {})).message).toBe(
      '"session.absoluteDuration" must be a positive number of seconds; received -5',
    );
    expect(errorOf(() => resolveConfig(testOptions({ ssoBaseUrl: 'ftp://x' }), {})).message).toMatch(/^"ssoBaseUrl" must be an http\(s\) URL; received "ftp:\/\/x"/);
    expect(errorOf(() => resolveConfig(testOptions({ cache: { max: 1.5 } }), {})).message).toMatch(/"cache.max" must be a positive integer/);
    expect(errorOf(() => resolveConfig(testOptions({ httpTimeout: 0 }), {})).message).toMatch(/"httpTimeout" must be a positive number of milliseconds; received 0/);
    expect(errorOf(() => resolveConfig(testOptions({ transactionMaxAge: 3600 }), {})).message).toMatch(/"transactionMaxAge" must be at most 600/);
    expect(errorOf(() => resolveConfig(testOptions({ publicPaths: ['health'] }), {})).message).toMatch(/"publicPaths"/);
    expect(errorOf(() => resolveConfig(testOptions({ routes: { login: 'login' } }), {})).message).toMatch(/"routes.login"/);
    expect(errorOf(() => resolveConfig(testOptions({ tokenIssuer: 'x' as never }), {})).message).toMatch(/"tokenIssuer"/);
    expect(errorOf(() => resolveConfig({ ...testOptions(), clientId: undefined }, {})).message).toMatch(/"clientId" must be a non-empty string/);
  });

  it('refuses unknown options with a suggestion', () => {
    expect(errorOf(() => resolveConfig({ ...testOptions(), authRequried: true } as never, {})).message).toBe('Unknown option "authRequried". Did you mean "authRequired"?');
    expect(errorOf(() => resolveConfig(testOptions({ session: { maxAge: 5 } as never }), {})).message).toMatch(/Unknown option "session.maxAge"/);
    expect(errorOf(() => resolveConfig({ ...testOptions(), zzzzzzzzzz: 1 } as never, {})).message).toBe('Unknown option "zzzzzzzzzz".');
  });

  it('requires secrets of at least 32 characters and never echoes them', () => {
    const short = 'short-secret-value';
    const err = errorOf(() => resolveConfig(testOptions({ secret: short }), {}));
    expect(err.code).toBe('invalid_option');
    expect(err.message).toMatch(/"secret" must be a string of at least 32 characters/);
    expect(err.message).not.toContain(short);
    expect(errorOf(() => resolveConfig(testOptions({ secret: [] }), {})).message).toMatch(/"secret"/);
    expect(resolveConfig(testOptions({ secret: ['n'.repeat(32), 'o'.repeat(40)] }), {}).secrets).toHaveLength(2);
  });

  it('refuses URLs with credentials or queries', () => {
    expect(errorOf(() => resolveConfig(testOptions({ ssoBaseUrl: 'https://u:p@sso.test' }), {})).message).toMatch(/without credentials/);
    expect(errorOf(() => resolveConfig(testOptions({ appBaseUrl: 'https://app.test/?x=1' }), {})).message).toMatch(/"appBaseUrl"/);
  });

  it('splits public paths into exact paths and prefixes', () => {
    const c = resolveConfig(testOptions({ publicPaths: ['/health', '/public/*'] }), {});
    expect(c.publicPaths).toEqual(['/health']);
    expect(c.publicPrefixes).toEqual(['/public/']);
  });
});
