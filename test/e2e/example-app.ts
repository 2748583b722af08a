/**
 * The example app (plain CommonJS, `example-app/server.js`) started in-process for tests.
 * It requires the package by name; map the name to the sources so tests never run against a
 * stale or missing `dist/` (jest.mock calls are hoisted above the require below).
 */
import type { Emulator } from '../../lib/testing';

jest.mock('express-sso-guard', () => jest.requireActual('../../lib/index'), { virtual: true });
jest.mock('express-sso-guard/testing', () => jest.requireActual('../../lib/testing/index'), { virtual: true });

/** What `start()` of `example-app/server.js` resolves to. */
export interface StartedExample {
  /** `APP_BASE_URL`, or `http://localhost:<actual port>`, without a trailing slash. */
  appUrl: string;
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  ssoUrl: string;
  /** The bundled emulator; `undefined` when `SSO_BASE_URL` was given. */
  emulator: Emulator | undefined;
  /** The bundled emulator's console page (launches the app as a user); `undefined` without it. */
  consoleUrl: string | undefined;
  /** The AppCenter `secret_app_key` the SPI at /spi checks. */
  spiSecretAppKey: string;
  close(): Promise<void>;
}

export type Env = Record<string, string | undefined>;

type Start = (options?: { env?: Env; port?: number }) => Promise<StartedExample>;
/** The example app's `start` and the Express major its `require('express')` got (Express 4 still has `express.query`). */
const load = (): { start: Start; major: 4 | 5 } => ({
  start: (require('../../example-app/server') as { start: Start }).start,
  major: typeof (require('express') as { query?: unknown }).query === 'function' ? 4 : 5,
});

const onExpress5 = load();
let onExpress4: ReturnType<typeof load> | undefined;
// A second copy of the example app (and of the package) in its own module registry, where
// `require('express')` is Express 4.
jest.isolateModules(() => {
  jest.doMock('express', () => jest.requireActual('express4'));
  onExpress4 = load();
});
jest.dontMock('express');

/** `start({ env, port })` of the example app: listens on 127.0.0.1 (port 0: a free one). On Express 5. */
export const start = onExpress5.start;

/** The example app on each Express major: `[label, start, the major its express() really is]`. */
export const EXAMPLE_VERSIONS = [
  ['express 4', onExpress4!.start, onExpress4!.major],
  ['express 5', onExpress5.start, onExpress5.major],
] as const;

/** A session secret for tests (the example app warns without one). */
export const TEST_SECRET = 'example-app-test-session-secret-0123456789';

/** `name=value; …` to send back, from Set-Cookie lines; deleted cookies dropped. */
export function cookieHeader(setCookie: string[] | string | undefined, previous = ''): string {
  const jar = new Map<string, string>();
  for (const pair of previous.split('; ').filter(Boolean)) jar.set(pair.split('=')[0]!, pair);
  for (const line of setCookie === undefined ? [] : ([] as string[]).concat(setCookie)) {
    const pair = line.split(';')[0]!;
    const name = pair.split('=')[0]!;
    if (/;\s*Max-Age=0/i.test(line)) jar.delete(name);
    else jar.set(name, pair);
  }
  return [...jar.values()].join('; ');
}
