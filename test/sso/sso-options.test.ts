import { createCore } from '../../lib/instance';
import { resolveConfig } from '../../lib/config';
import { SsoGuardError } from '../../lib/errors';
import type { SsoGuardOptions } from '../../lib/options';
import { testOptions } from '../helpers/options';

// Every documented token_issuer; extra authorize parameters that
// cannot override the protected ones.

function errorOf(options: SsoGuardOptions): SsoGuardError {
  try {
    resolveConfig(testOptions(options), {});
  } catch (err) {
    expect(err).toBeInstanceOf(SsoGuardError);
    expect((err as SsoGuardError).code).toBe('invalid_option');
    return err as SsoGuardError;
  }
  throw new Error('expected the options to be refused');
}

describe('tokenIssuer', () => {
  it.each(['sso', 'iam', 'iam_jwt', 'app', 'app_dev'] as const)('accepts %s', (tokenIssuer) => {
    expect(resolveConfig(testOptions({ tokenIssuer }), {}).tokenIssuer).toBe(tokenIssuer);
  });

  it('refuses an unknown one with the list', () => {
    expect(errorOf({ tokenIssuer: 'iam-jwt' as never }).message).toBe(
      '"tokenIssuer" must be one of "sso", "iam", "iam_jwt", "app", "app_dev"; received "iam-jwt"',
    );
    expect(errorOf({ tokenIssuer: 5 as never }).message).toMatch(/received number$/);
  });
});

describe('authorizationParams', () => {
  const urlOf = (authorizationParams: Record<string, string>) =>
    new URL(createCore(testOptions({ authorizationParams })).sso.authorizeUrl('st-1'));

  it('adds the parameters after the protected ones', () => {
    const url = urlOf({ redirect_url: 'http://app.test/callback', lang: 'zh-cn' });
    expect([...url.searchParams]).toEqual([
      ['client_id', 'test-client'],
      ['state', 'st-1'],
      ['response_type', 'code'],
      ['redirect_uri', 'http://app.test/callback'],
      ['redirect_url', 'http://app.test/callback'],
      ['lang', 'zh-cn'],
    ]);
  });

  it('defaults to none', () => {
    expect([...urlOf({}).searchParams.keys()]).toEqual(['client_id', 'state', 'response_type', 'redirect_uri']);
  });

  it.each(['client_id', 'response_type', 'redirect_uri', 'state', 'STATE', 'Redirect_Uri'])('cannot set %s', (name) => {
    expect(errorOf({ authorizationParams: { [name]: 'x' } }).message).toBe(
      `"authorizationParams" cannot set "${name}": client_id, response_type, redirect_uri, state are set by the middleware`,
    );
  });

  it('values must be strings, and are never echoed', () => {
    expect(errorOf({ authorizationParams: { lang: 5 as never } }).message).toBe(
      '"authorizationParams["lang"]" must be a string; received number',
    );
    expect(errorOf({ authorizationParams: { '': 'x' } }).message).toMatch(/empty parameter name/);
    expect(errorOf({ authorizationParams: ['a'] as never }).message).toMatch(/received an array$/);
    expect(errorOf({ authorizationParams: 'lang=en' as never }).message).toMatch(/received string$/);
    const err = errorOf({ authorizationParams: { state: 'secret-value-xyz' } });
    expect(err.message).not.toContain('secret-value-xyz');
  });
});
