import fc from 'fast-check';
import type { Emulator } from '../../lib/testing';
import {
  APP_BASE_URL,
  EXPRESS_VERSIONS,
  cookiesFrom,
  createTestApp,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { serve, trackUnhandledRejections, type Answer, type Served } from '../helpers/serve';
import payloads from '../fixtures/open-redirect-payloads.json';

// Any /callback query is a 4xx (never a 5xx, never a session)
// unless it is exactly the genuine answer of a login in progress; any returnTo, on /login (through
// the whole sign-in) and on /logout, ends on a Location a browser resolves to the app's origin.

trackUnhandledRejections();

const REDIRECT_URI = `${APP_BASE_URL}/callback`;
/** Another app of the same client: its codes must not work here. */
const OTHER_REDIRECT_URI = 'http://other.test/callback';
const MARK = 'Zq9';
const HTML = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';
/** A request from the app's own pages (a logout link): GET /logout signs out only when the browser says so. */
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

/** Percent-encodes every byte outside the unreserved set (lone surrogates become U+FFFD, as in browsers). */
function encodeAll(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8'))
    out += /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** Whether `s` can go raw in a request target (visible ASCII; Node's server refuses other bytes). */
const pathSafe = (s: string) => /^[\x21-\x7e]*$/.test(s);

/** What a browser does with `Location: <value>` received on a page of the app. */
function sameOrigin(location: string | undefined): boolean {
  if (location === undefined) return false;
  try {
    return new URL(location, `${APP_BASE_URL}/callback`).origin === APP_BASE_URL;
  } catch {
    return false;
  }
}

function sessionSet(res: Answer): boolean {
  return res.setCookie.some((c) => /^sso_session(\.\d+)?=/.test(c) && !/Max-Age=0/.test(c));
}

/** Open-redirect building blocks: separators, schemes, encodings, lookalikes, IDN and userinfo tricks. */
const PIECES = [
  '/',
  '//',
  '///',
  '\\',
  '/\\',
  '\\/',
  '\\\\',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '%252f',
  '%2f%2f',
  '%5c%5c',
  '%09',
  '%0a',
  '%0d',
  '%00',
  '%20',
  '\t',
  '\n',
  '\r',
  ' ',
  '\u0000',
  '\u000b',
  '\u200b',
  '\ufeff',
  '.',
  '..',
  '%2e',
  '%2e%2e',
  '?',
  '#',
  '&',
  '=',
  ';',
  ':',
  '@',
  'user:pass@',
  'app.test@',
  'evil.com',
  'evil.com.',
  'app.test',
  'app.test.evil.com',
  '127.0.0.1',
  '[::1]',
  '0x7f.1',
  'http:',
  'https:',
  'HTTPS:',
  'javascript:',
  'JaVaScRiPt:',
  'data:',
  'vbscript:',
  'alert(1)',
  '\u3002',
  '\uff0f',
  '\uff3c',
  '\u2215',
  '\u2044',
  '\u29f8',
  '\u2216',
  '\ufe68',
  '\u24d4vil.com',
  'xn--80ak6aa92e.com',
  '\u0435vil.com',
  'returnTo=',
  '%',
];
const allPayloads = [...payloads.malicious, ...payloads.ambiguous, ...payloads.safe].map((p) => p.value);

const returnToArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.constantFrom(...allPayloads) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...allPayloads), fc.constantFrom(...PIECES)).map(([p, x]) => p + x),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60, size: 'max' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30, size: 'max' }).map((s) => `/${s}`) },
);

/** How the value travels in the query: properly encoded, raw (when sendable), encoded twice. */
const encodingArb = fc.constantFrom('encoded', 'raw', 'twice');
function encodeAs(value: string, how: string): string {
  if (how === 'raw' && pathSafe(value)) return value;
  if (how === 'twice') return encodeAll(encodeAll(value));
  return encodeAll(value);
}

describe.each(EXPRESS_VERSIONS)('routes fuzzing (%s)', (_name, express) => {
  let sso: Emulator;
  let served: Served;

  beforeAll(async () => {
    sso = await startTestEmulator({ redirectUris: [REDIRECT_URI, OTHER_REDIRECT_URI] });
    served = await serve(createTestApp(express as ExpressFactory, sso));
  });
  afterAll(async () => {
    await served.close();
    await sso.close();
  });

  /** Starts a login over HTTP: its state, transaction cookie and authorize URL. */
  async function beginLogin(
    returnTo?: string,
    how = 'encoded',
    previous?: Answer,
  ): Promise<{ state: string; cookie: string; res: Answer }> {
    // A browser sends the slot index of a previous login with the next one.
    const index =
      previous === undefined
        ? ''
        : cookiesFrom(previous.setCookie.filter((c) => c.startsWith('sso_session_txn_slots=')));
    const res = await served.get(
      returnTo === undefined ? '/login' : `/login?returnTo=${encodeAs(returnTo, how)}`,
      index ? { cookie: index } : {},
    );
    expect(res.status).toBe(302);
    const state = new URL(res.headers.location!).searchParams.get('state')!;
    return { state, cookie: cookiesFrom(res.setCookie), res };
  }

  describe('/callback', () => {
    type Kind = 'own' | 'foreign' | 'forged' | 'empty' | 'huge' | 'garbage';
    const paramArb = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(
          fc.constant('state'),
          fc.constantFrom<Kind>('own', 'own', 'own', 'foreign', 'forged', 'empty', 'huge', 'garbage'),
        ),
      },
      {
        weight: 6,
        arbitrary: fc.tuple(
          fc.constant('code'),
          fc.constantFrom<Kind>('own', 'own', 'own', 'foreign', 'forged', 'empty', 'huge', 'garbage'),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.constantFrom('error', 'error_description', 'iss', 'session_state', 'returnTo'),
          fc.constantFrom<Kind>('forged', 'empty', 'garbage', 'huge'),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.string({ unit: 'binary', maxLength: 8 }),
          fc.constantFrom<Kind>('forged', 'garbage', 'huge'),
        ),
      },
    );
    const scenarioArb = fc.record({
      params: fc.oneof<fc.Arbitrary<[string, Kind][]>[]>(
        fc.array(paramArb, { maxLength: 5 }),
        // Near-genuine: the real pair, in either order, with maybe something added.
        fc.tuple(fc.boolean(), fc.array(paramArb, { maxLength: 2 }), fc.nat()).map(([swap, extra, at]) => {
          const base: [string, Kind][] = swap
            ? [
                ['code', 'own'],
                ['state', 'own'],
              ]
            : [
                ['state', 'own'],
                ['code', 'own'],
              ];
          base.splice(at % 3, 0, ...extra);
          return base;
        }),
      ),
      /** The used/forged/garbage values, and how much of the query is left as sent. */
      garbage: fc.string({ unit: 'binary', maxLength: 40, size: 'max' }),
      suffix: fc.constantFrom(
        '',
        '',
        '',
        '',
        '&',
        '&&',
        '=',
        '&=',
        '&state',
        '&code',
        '#frag',
        '%',
        '%zz',
        '%E0%A4%A',
        '+',
      ),
      cookie: fc.constantFrom('own', 'own', 'own', 'both', 'none', 'foreign', 'both', 'garbage'),
      accept: fc.constantFrom(HTML, 'application/json', '*/*'),
      codeState: fc.constantFrom('fresh', 'fresh', 'fresh', 'fresh', 'used', 'otherRedirect'),
    });

    it('4xx and no session unless it is exactly the genuine answer to a login in progress (1,000 runs)', async () => {
      // A code already exchanged (replay).
      const used = await (async () => {
        const login = await beginLogin('/used');
        const code = sso.approve({ redirectUri: REDIRECT_URI });
        const cb = await served.get(`/callback?code=${code}&state=${login.state}`, { cookie: login.cookie });
        expect(cb.status).toBe(302);
        return code;
      })();
      let successes = 0;
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (sc) => {
          const own = await beginLogin('/dest');
          const foreign = await beginLogin('/elsewhere', 'encoded', own.res);
          const code =
            sc.codeState === 'used'
              ? used
              : sc.codeState === 'otherRedirect'
                ? sso.approve({ redirectUri: OTHER_REDIRECT_URI })
                : sso.approve({ redirectUri: REDIRECT_URI });
          const valueOf = (key: string, kind: Kind): string => {
            const real =
              key === 'state'
                ? { own: own.state, foreign: foreign.state }
                : key === 'code'
                  ? { own: code, foreign: used }
                  : { own: 'access_denied', foreign: 'x' };
            switch (kind) {
              case 'own':
                return real.own;
              case 'foreign':
                return real.foreign;
              case 'forged':
                return `${MARK}${own.state.slice(3)}`;
              case 'empty':
                return '';
              case 'huge':
                return MARK + 'h'.repeat(2100);
              case 'garbage':
                return MARK + sc.garbage;
            }
          };
          const raw =
            sc.params.map(([k, kind]) => `${encodeAll(k)}=${encodeAll(valueOf(k, kind))}`).join('&') + sc.suffix;
          const cookie = {
            own: own.cookie,
            none: '',
            foreign: foreign.cookie,
            both: `${foreign.cookie}; ${own.cookie}`,
            garbage: `${own.cookie.split('=')[0]}=${MARK}garbage`,
          }[sc.cookie]!;
          const res = await served.get(`/callback?${raw}`, { cookie, accept: sc.accept });

          // The oracle, from the query as any parser reads it.
          const parsed = [...new URLSearchParams(raw)];
          const keys = parsed.map(([k]) => k);
          const get = (k: string) => parsed.find(([key]) => key === k)?.[1];
          const genuine =
            raw.length <= 4096 &&
            new Set(keys).size === keys.length &&
            parsed.every(([, v]) => v.length <= 2048) &&
            !keys.includes('error') &&
            get('code') === code &&
            sc.codeState === 'fresh' &&
            // Either login in progress whose transaction cookie the browser holds (several tabs).
            ((get('state') === own.state && (sc.cookie === 'own' || sc.cookie === 'both')) ||
              (get('state') === foreign.state && (sc.cookie === 'foreign' || sc.cookie === 'both')));

          expect(res.status).toBeLessThan(500);
          expect(res.body).not.toContain(MARK);
          if (genuine) {
            expect(res.status).toBe(302);
            expect(res.headers.location).toBe(get('state') === own.state ? '/dest' : '/elsewhere');
            expect(sessionSet(res)).toBe(true);
            successes++;
          } else {
            expect(res.status).toBeGreaterThanOrEqual(400);
            expect(sessionSet(res)).toBe(false);
          }
        }),
        { numRuns: 1000, seed: 0xca11 },
      );
      // The generator must reach the genuine case often enough for the "iff" to mean something.
      expect(successes).toBeGreaterThan(30);
    }, 60_000);
  });

  describe('returnTo', () => {
    it('/logout: any returnTo gives a same-origin Location (3,000 runs)', async () => {
      await fc.assert(
        fc.asyncProperty(returnToArb, encodingArb, async (value, how) => {
          const res = await served.get(`/logout?returnTo=${encodeAs(value, how)}`, SAME_ORIGIN);
          expect(res.status).toBe(302);
          expect(sameOrigin(res.headers.location)).toBe(true);
        }),
        { numRuns: 3000, seed: 0x1060 },
      );
    }, 60_000);

    it('/login then the whole sign-in: any returnTo ends on a same-origin Location (800 runs)', async () => {
      await fc.assert(
        fc.asyncProperty(returnToArb, encodingArb, async (value, how) => {
          const { state, cookie } = await beginLogin(value, how);
          const cb = await served.get(`/callback?code=${sso.approve({ redirectUri: REDIRECT_URI })}&state=${state}`, {
            cookie,
          });
          expect(cb.status).toBe(302);
          expect(sessionSet(cb)).toBe(true);
          expect(sameOrigin(cb.headers.location)).toBe(true);
        }),
        { numRuns: 800, seed: 0x10617 },
      );
    }, 60_000);

    it('plain same-origin paths are honoured, not only refused payloads (300 runs)', async () => {
      const plain = fc
        .array(fc.string({ unit: fc.constantFrom(...'abcxyz019-_~'), minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 4,
        })
        .map((a) => `/${a.join('/')}`);
      await fc.assert(
        fc.asyncProperty(
          plain,
          fc.option(fc.string({ unit: fc.constantFrom(...'abc=&19'), maxLength: 8 }), { nil: undefined }),
          async (path, query) => {
            const value = query === undefined ? path : `${path}?${query}`;
            const { state, cookie } = await beginLogin(value);
            const cb = await served.get(`/callback?code=${sso.approve({ redirectUri: REDIRECT_URI })}&state=${state}`, {
              cookie,
            });
            const url = new URL(value, APP_BASE_URL);
            const normalized = url.pathname + url.search;
            expect(cb.headers.location).toBe(normalized);
            expect((await served.get(`/logout?returnTo=${encodeAll(value)}`, SAME_ORIGIN)).headers.location).toBe(
              normalized,
            );
          },
        ),
        { numRuns: 300, seed: 3 },
      );
    });

    it('any requested URL, through the login redirect and the whole sign-in, lands on the app origin (500 runs)', async () => {
      const target = fc.oneof(
        returnToArb.filter(pathSafe).map((v) => (v.startsWith('/') ? v : `/${v}`)),
        returnToArb.map((v) => `/${encodeAll(v)}`),
        fc.constantFrom('http://evil.com/x', 'https://evil.com', '//evil.com', '///evil.com/', '/\\evil.com', '*'),
      );
      await fc.assert(
        fc.asyncProperty(target, async (path) => {
          const nav = await served.get(path, { accept: HTML });
          if (nav.status === 400) return; // Node refused the request target itself
          expect(nav.status).toBe(302);
          const loginUrl = nav.headers.location!;
          expect(loginUrl.startsWith('/login?returnTo=') || loginUrl === '/login').toBe(true);
          const login = await served.get(loginUrl);
          const state = new URL(login.headers.location!).searchParams.get('state')!;
          const cb = await served.get(`/callback?code=${sso.approve({ redirectUri: REDIRECT_URI })}&state=${state}`, {
            cookie: cookiesFrom(login.setCookie),
          });
          expect(cb.status).toBe(302);
          expect(sameOrigin(cb.headers.location)).toBe(true);
        }),
        { numRuns: 500, seed: 0xdeaf },
      );
    }, 60_000);

    it('a signed-in user logging out with any returnTo also stays on the origin (200 runs)', async () => {
      const app = createTestApp(express as ExpressFactory, sso);
      const { cookie } = await signIn(app, sso);
      await fc.assert(
        fc.asyncProperty(returnToArb, async (value) => {
          const res = await served.get(`/logout?returnTo=${encodeAll(value)}`, { ...SAME_ORIGIN, cookie });
          expect(sameOrigin(res.headers.location)).toBe(true);
        }),
        { numRuns: 200, seed: 4 },
      );
    });
  });
});
