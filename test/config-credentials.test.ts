import { resolveConfig } from '../lib/config';
import { SsoGuardError } from '../lib/errors';
import type { SsoGuardOptions } from '../lib/options';
import { testOptions } from './helpers/options';

// An option error names the option but never echoes a credential.

function messageOf(options: SsoGuardOptions, env: NodeJS.ProcessEnv = {}): string {
  try {
    resolveConfig(options, env);
  } catch (err) {
    expect(err).toBeInstanceOf(SsoGuardError);
    return (err as SsoGuardError).message;
  }
  throw new Error('no error');
}

const PASSWORD = 'hunter2-Pa55word';

describe('option errors never echo credentials', () => {
  it.each(['ssoBaseUrl', 'appBaseUrl'] as const)('%s with user:password names the option, not the password', (name) => {
    const message = messageOf(testOptions({ [name]: `https://admin:${PASSWORD}@host.test/` }));
    expect(message).toContain(`"${name}"`);
    expect(message).toContain('https://host.test');
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain('admin');
  });

  it('cloud.apiBaseUrl with credentials or a query', () => {
    for (const url of [
      `https://admin:${PASSWORD}@api.test`,
      `https://api.test/?token=${PASSWORD}`,
      `https://api.test/#${PASSWORD}`,
    ]) {
      const message = messageOf(testOptions({ cloud: { apiBaseUrl: url } }));
      expect(message).toContain('"cloud.apiBaseUrl"');
      expect(message).not.toContain(PASSWORD);
    }
  });

  it('an unparseable URL holding a password', () => {
    const message = messageOf(testOptions({ ssoBaseUrl: `ht tp://admin:${PASSWORD}@host` }));
    expect(message).toContain('"ssoBaseUrl"');
    expect(message).not.toContain(PASSWORD);
  });

  it('a URL from the environment', () => {
    const message = messageOf(
      { ...testOptions(), ssoBaseUrl: undefined },
      { SSO_BASE_URL: `ftp://u:${PASSWORD}@sso.test` },
    );
    expect(message).toContain('"ssoBaseUrl"');
    expect(message).not.toContain(PASSWORD);
  });

  it('clientSecret of the wrong type', () => {
    for (const value of [987654321987, [PASSWORD], { value: PASSWORD }]) {
      const message = messageOf(testOptions({ clientSecret: value as unknown as string }));
      expect(message).toContain('"clientSecret"');
      expect(message).not.toContain('987654321987');
      expect(message).not.toContain(PASSWORD);
    }
  });

  it('secret: short, of the wrong type, or in an array', () => {
    for (const value of ['short-secret-XYZ', 123456789123, ['short-secret-XYZ'], [123456789123], [{ k: PASSWORD }]]) {
      const message = messageOf(testOptions({ secret: value as unknown as string }));
      expect(message).toContain('"secret"');
      expect(message).not.toContain('short-secret-XYZ');
      expect(message).not.toContain('123456789123');
      expect(message).not.toContain(PASSWORD);
    }
  });
});
