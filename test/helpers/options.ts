import type { SsoGuardOptions } from '../../lib/options';

export const SECRET = 'a-test-session-secret-of-at-least-32-chars';
export const OLD_SECRET = 'an-older-session-secret-of-32-chars-or-more';
export const CLIENT_ID = 'test-client';
export const CLIENT_SECRET = 'test-client-secret-value';

/** Complete, valid options without touching the environment. */
export function testOptions(overrides: SsoGuardOptions = {}): SsoGuardOptions {
  return {
    ssoBaseUrl: 'http://127.0.0.1:9',
    appBaseUrl: 'http://app.test',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    secret: SECRET,
    ...overrides,
  };
}
