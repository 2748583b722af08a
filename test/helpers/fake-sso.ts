import type { SsoClient } from '../../lib/sso/sso-client';
import type { CheckResult, TokenSet } from '../../lib/sso/types';

/** A controllable stand-in for SsoClient in unit tests (integration tests use the real emulator). */
export class FakeSso {
  checks = 0;
  refreshes = 0;
  /** What checkToken answers; a function gets the token. */
  check: (token: string) => Promise<CheckResult | undefined> = async (token) => ({
    user: { user_id: `u-${token}` },
    credentials: { accessKey: 'AK', secretKey: 'SK', token: 'e30.e30.sig' },
  });
  refreshAnswer: (rt: string) => Promise<TokenSet> = async (rt) => ({
    accessToken: `at-from-${rt}`,
    refreshToken: `${rt}+`,
    expiresIn: 3600,
    tokenType: 'Bearer',
  });

  asClient(): SsoClient {
    return {
      checkToken: (token: string) => {
        this.checks++;
        return this.check(token);
      },
      refresh: (_at: string, rt: string) => {
        this.refreshes++;
        return this.refreshAnswer(rt);
      },
    } as unknown as SsoClient;
  }
}

/** A promise with its resolve function outside, to hold calls in flight. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
