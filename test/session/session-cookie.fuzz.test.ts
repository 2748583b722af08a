import { sessionCookieFor } from '../helpers/parts';
import fc from 'fast-check';
import { createCore, type Core } from '../../lib/instance';
import { Sealer } from '../../lib/util/crypto';
import { type SessionData } from '../../lib/session/session-cookie';
import type { Emulator } from '../../lib/testing';
import type { Express } from 'express';
import {
  EXPRESS_VERSIONS,
  APP_BASE_URL,
  createTestApp,
  signIn,
  startTestEmulator,
  type ExpressFactory,
} from '../helpers/app';
import { CLIENT_ID, CLIENT_SECRET, OLD_SECRET, SECRET } from '../helpers/options';
import { openSession } from '../helpers/session';
import { rawRequest, serve, trackUnhandledRejections, type Served } from '../helpers/serve';

// Whatever the Cookie header, the middleware never answers 5xx, never lets
// an exception escape, and only a cookie this app sealed yields a session.

trackUnhandledRejections();

const NOW = 1_800_000_000;
const HTML = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Characters an HTTP client can put in a header value (latin1 without controls). */
const headerChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\t', ';', '=', '"', ',', ' ', '.', '%'),
);
const headerString = (maxLength: number) => fc.string({ unit: headerChar, maxLength, size: 'max' });

/** The real cookie values the fuzzed headers are built from. */
interface Genuine {
  /** A session cookie value this app sealed (one cookie). */
  whole: string;
  /** A session this app sealed that is too big for one cookie: its chunks, in order. */
  chunks: string[];
  /** The same big session as one value (still ours: it opens). */
  bigWhole: string;
  /** Sealed by another app (another secret). */
  foreign: string;
  /** Sealed by this app's old secret after it was dropped from the rotation. */
  dropped: string;
  /** This app's key, but not a session (a JSON object without the fields). */
  notSession: string;
  /** This app's secret, but the transaction key (another HKDF purpose). */
  otherPurpose: string;
}

function chunkOf(setCookie: string[]): string[] {
  return setCookie.filter((l) => /^sso_session\.\d+=/.test(l)).map((l) => l.split(';')[0]!.split('=')[1]!);
}

/** Any way a real value can be damaged; `pos` and `n` are reduced modulo the value's length. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), n: fc.nat() }),
  fc.record({ kind: fc.constant('flipBit' as const), n: fc.nat() }),
  fc.record({
    kind: fc.constant('replace' as const),
    n: fc.nat(),
    ch: fc.constantFrom(...B64URL, '.', '=', '+', '/', ' ', '%', '"', '~', '!', '\u00e9'),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    n: fc.nat(),
    ch: fc.constantFrom(...B64URL, '.', '=', '+', '/', ' ', '%', '"', '~', '!', '*', '\t'),
  }),
  fc.record({ kind: fc.constant('delete' as const), n: fc.nat() }),
  fc.record({
    kind: fc.constant('append' as const),
    s: fc.string({ unit: fc.constantFrom(...B64URL, '='), minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('swap' as const), n: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(value: string, m: Mutation): string {
  const at = (n: number) => n % value.length;
  switch (m.kind) {
    case 'truncate':
      return value.slice(0, at(m.n));
    case 'flipBit': {
      const buf = Buffer.from(value, 'base64url');
      buf[Math.floor(m.n / 8) % buf.length]! ^= 1 << (m.n % 8);
      return buf.toString('base64url');
    }
    case 'replace': {
      const i = at(m.n);
      return value[i] === m.ch ? value : value.slice(0, i) + m.ch + value.slice(i + 1);
    }
    case 'insert':
      return value.slice(0, at(m.n)) + m.ch + value.slice(at(m.n));
    case 'delete':
      return value.slice(0, at(m.n)) + value.slice(at(m.n) + 1);
    case 'append':
      return value + m.s;
    case 'swap': {
      const i = at(m.n);
      const j = (i + 1) % value.length;
      if (value[i] === value[j]) return `${value}A`;
      const a = [...value];
      [a[i], a[j]] = [a[j]!, a[i]!];
      return a.join('');
    }
  }
}

/** Cookie headers: real, damaged and foreign values under our names, chunk fragments, duplicates and noise. */
function cookieHeader(g: Genuine): fc.Arbitrary<string> {
  const value = fc.oneof(
    { weight: 3, arbitrary: fc.constant(g.whole) },
    { weight: 2, arbitrary: fc.constantFrom(...g.chunks) },
    { weight: 1, arbitrary: fc.constant(g.bigWhole) },
    { weight: 8, arbitrary: mutation.map((m) => mutate(g.whole, m)) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...g.chunks), mutation).map(([c, m]) => mutate(c, m)) },
    { weight: 3, arbitrary: fc.constantFrom(g.foreign, g.dropped, g.notSession, g.otherPurpose) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        `"${g.whole}"`,
        `"${g.whole}`,
        `${g.whole}"`,
        `${g.whole} `,
        ` ${g.whole}`,
        '',
        '""',
        '"',
      ),
    },
    { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...B64URL), maxLength: 600, size: 'max' }) },
    { weight: 3, arbitrary: headerString(200) },
    { weight: 1, arbitrary: fc.integer({ min: 3000, max: 9000 }).map((n) => 'A'.repeat(n)) },
  );
  const name = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom('sso_session', 'sso_session.0', 'sso_session.1', 'sso_session.2', 'sso_session.3'),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'sso_session.x',
        'sso_session.',
        'sso_session..0',
        'sso_session.-1',
        'sso_session.01',
        'sso_session_txn.abcd',
        'sso_sessionx',
        'SSO_SESSION',
        ' sso_session',
        'sso_session ',
        'other',
        '',
      ),
    },
    { weight: 1, arbitrary: headerString(12) },
  );
  const pair = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(name, value).map(([n, v]) => `${n}=${v}`) },
    { weight: 1, arbitrary: headerString(40) },
  );
  const chunked = fc.constant(g.chunks.map((c, i) => `sso_session.${i}=${c}`));
  const parts = fc.oneof(
    { weight: 6, arbitrary: fc.array(pair, { minLength: 1, maxLength: 6 }) },
    // A whole set of chunks with something damaged, missing, reordered or added around it.
    {
      weight: 2,
      arbitrary: fc
        .tuple(chunked, fc.array(pair, { maxLength: 3 }), fc.nat(), fc.boolean())
        .map(([c, extra, n, drop]) => {
          const all = [...c];
          if (drop) all.splice(n % all.length, 1);
          else all.splice(n % (all.length + 1), 0, ...extra);
          return all;
        }),
    },
  );
  return fc.tuple(parts, fc.constantFrom('; ', ';', ' ; ', ';;', ', ')).map(([p, sep]) => p.join(sep));
}

/**
 * The oracle of "a valid session only from a cookie this app sealed": a request may be signed in
 * only when its header carries one of our sealed values verbatim (the chunk set counts as one).
 */
function carriesGenuine(header: string, g: Genuine): boolean {
  return header.includes(g.whole) || header.includes(g.bigWhole) || g.chunks.every((c) => header.includes(c));
}

async function genuineValues(sso: Emulator, app: Express): Promise<{ genuine: Genuine; userId: string }> {
  const { cookie } = await signIn(app, sso);
  const session = openSession(cookie);
  const nowSec = Math.floor(Date.now() / 1000);
  const sealedWith = (secret: string, s: SessionData): string =>
    sessionCookieFor({ secret }).serialize(s, nowSec, [])[0]!.split(';')[0]!.split('=')[1]!;
  const whole = cookie.split('=')[1]!;
  // A long token type makes it chunk (two chunks: the most a cookie session may have); the tokens are the real session's.
  const big = sessionCookieFor().serialize({ ...session, tokenType: session.tokenType.padEnd(4500) }, nowSec, []);
  const chunks = chunkOf(big);
  expect(chunks.length).toBeGreaterThanOrEqual(2);
  const seal = (secret: string, purpose: 'session' | 'transaction', plain: string) =>
    new Sealer([secret], purpose).seal(plain);
  const genuine: Genuine = {
    whole,
    chunks,
    bigWhole: chunks.join(''),
    foreign: sealedWith('another-app-secret-of-at-least-32-characters', session),
    dropped: sealedWith(OLD_SECRET, session),
    notSession: sealedWith(SECRET, { ...session, expiresAt: 'soon' } as unknown as SessionData),
    otherPurpose: seal(SECRET, 'transaction', JSON.stringify(session)),
  };
  const me = await fetchUser(app, cookie);
  return { genuine, userId: me };
}

async function fetchUser(app: Express, cookie: string): Promise<string> {
  const served = await serve(app);
  try {
    const res = await served.get('/api/me', { cookie });
    return (JSON.parse(res.body) as { user: { user_id: string } }).user.user_id;
  } finally {
    await served.close();
  }
}

describe('session cookie fuzzing', () => {
  let sso: Emulator;
  beforeAll(async () => {
    sso = await startTestEmulator({ accessTokenTtl: 86400 });
  });
  afterAll(() => sso.close());

  describe('Authenticator.run (no HTTP), any string', () => {
    let core: Core;
    let genuine: Genuine;
    beforeAll(async () => {
      core = createCore({
        ssoBaseUrl: sso.url,
        appBaseUrl: APP_BASE_URL,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        secret: SECRET,
      });
      const app = createTestApp(EXPRESS_VERSIONS[1][1], sso);
      ({ genuine } = await genuineValues(sso, app));
    });

    it('never throws and never signs in on arbitrary strings, sealed-length ones included (20,000 runs)', async () => {
      // Sizes are explicit: fast-check keeps strings near 10 characters unless told otherwise, and
      // anything under 44 characters or without our version byte and key id never reaches decryption.
      const b64 = (minLength: number, maxLength: number) =>
        fc.string({ unit: fc.constantFrom(...B64URL), minLength, maxLength, size: 'max' });
      // Version byte, key id and the first IV byte of a value this app sealed: the rest is random.
      const ours = genuine.whole.slice(0, 8);
      const sealedLength = genuine.whole.length;
      const header = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 3000, size: 'max' }),
        fc.string({ unit: 'binary', maxLength: 600, size: 'max' }).map((s) => `sso_session=${s}`),
        b64(44, 1200).map((s) => `sso_session=${s}`),
        b64(sealedLength - 16, sealedLength + 16).map((s) => `sso_session=${ours}${s.slice(8)}`),
        fc.tuple(b64(3000, 3900), b64(44, 3900)).map(([a, b]) => `sso_session.0=${ours}${a}; sso_session.1=${b}`),
        fc
          .tuple(b64(3000, 3900), b64(3000, 3900), b64(1, 2000))
          .map(([a, b, c]) => `sso_session.0=${ours}${a}; sso_session.1=${b}; sso_session.2=${c}`),
      );
      const decipher = jest.spyOn(require('node:crypto') as typeof import('node:crypto'), 'createDecipheriv');
      const sizes = { decrypted: 0, multiChunk: 0, over1000: 0 };
      try {
        await fc.assert(
          fc.asyncProperty(header, async (h) => {
            decipher.mockClear();
            const outcome = await core.authenticator.run(h, undefined);
            expect(outcome.result).toBeUndefined();
            expect(outcome.error).toBeUndefined();
            if (decipher.mock.calls.length > 0) sizes.decrypted++;
            if (h.includes('sso_session.1=')) sizes.multiChunk++;
            if (h.length > 1000) sizes.over1000++;
          }),
          { numRuns: 20_000, seed: 0x5e55, endOnFailure: true },
        );
      } finally {
        decipher.mockRestore();
      }
      console.log(
        `arbitrary session cookies: ${JSON.stringify(sizes)} of 20,000 (reached AES-GCM, chunked, over 1,000 characters)`,
      );
      // The generated inputs really reach the cases the property names.
      expect(sizes.decrypted).toBeGreaterThan(2000);
      expect(sizes.multiChunk).toBeGreaterThan(4000);
      expect(sizes.over1000).toBeGreaterThan(6000);
    });

    it('signs in only from a value this app sealed (10,000 structured headers)', async () => {
      await fc.assert(
        fc.asyncProperty(cookieHeader(genuine), async (header) => {
          const outcome = await core.authenticator.run(header, undefined);
          expect(outcome.error).toBeUndefined();
          if (outcome.result !== undefined && !carriesGenuine(header, genuine))
            throw new Error(`signed in from a cookie this app did not seal: ${header}`);
        }),
        { numRuns: 10_000, seed: 0xc00c1e },
      );
    });
  });

  describe.each(EXPRESS_VERSIONS)('through the middleware over HTTP (%s)', (_name, express) => {
    let served: Served;
    let genuine: Genuine;
    let userId: string;
    const errors: unknown[] = [];

    beforeAll(async () => {
      const app = createTestApp(express as ExpressFactory, sso, {}, (a) => {
        a.use(((err, _req, res, _next) => {
          errors.push(err);
          res.status(599).end();
        }) as import('express').ErrorRequestHandler);
      });
      ({ genuine, userId } = await genuineValues(sso, app));
      served = await serve(app);
    });
    afterAll(() => served.close());
    afterEach(() => expect(errors).toEqual([]));

    it('page and API routes: never 5xx, never an escaped error, signed in only from our cookies (1,500 runs)', async () => {
      await fc.assert(
        fc.asyncProperty(cookieHeader(genuine), async (cookie) => {
          const api = await served.get('/api/me', { cookie, accept: 'application/json' });
          const page = await served.get('/page', { cookie, accept: HTML });
          for (const r of [api, page]) expect(r.status).toBeLessThan(500);
          const genuineSeen = carriesGenuine(cookie, genuine);
          if (api.status === 200) {
            const body = JSON.parse(api.body) as { user: { user_id: string } };
            expect(body.user.user_id).toBe(userId);
            expect(genuineSeen).toBe(true);
          } else {
            expect([401, 431]).toContain(api.status); // 431: the header is over Node's limit
          }
          if (page.status === 200) expect(genuineSeen).toBe(true);
          else if (page.status !== 431) expect(page.headers.location).toBe('/login?returnTo=%2Fpage');
        }),
        { numRuns: 1500, seed: 0xfeed },
      );
    }, 60_000);

    it('a real session with unrelated cookies around it still signs in (300 runs)', async () => {
      const other = fc
        .tuple(
          fc.constantFrom('a', 'sid', 'sso', 'session', '_ga', 'x.y', 'sso_sessio', 'sso_session_txn.1'),
          headerString(50).filter((v) => !v.includes(';')),
        )
        .map(([n, v]) => `${n}=${v}`);
      await fc.assert(
        fc.asyncProperty(
          fc.array(other, { maxLength: 4 }),
          fc.array(other, { maxLength: 4 }),
          fc.boolean(),
          async (before, after, big) => {
            const ours = big ? genuine.chunks.map((c, i) => `sso_session.${i}=${c}`) : [`sso_session=${genuine.whole}`];
            const res = await served.get('/api/me', { cookie: [...before, ...ours, ...after].join('; ') });
            expect(res.status).toBe(200);
          },
        ),
        { numRuns: 300, seed: 7 },
      );
    });

    it('raw header bytes no client would send: never 5xx (300 runs)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b.filter((x) => x !== 10 && x !== 13))),
          fc.constantFrom('/api/me', '/page'),
          async (bytes, path) => {
            const head = Buffer.concat([
              Buffer.from(`GET ${path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\nCookie: sso_session=`),
              bytes,
              Buffer.from('\r\n\r\n'),
            ]);
            const status = await rawRequest(served.port, head);
            expect(status).toBeGreaterThanOrEqual(200);
            expect(status).toBeLessThan(500);
          },
        ),
        { numRuns: 300, seed: 99 },
      );
    });
  });
});

describe('SessionCookie properties', () => {
  const secretArb = fc.string({ unit: fc.constantFrom(...B64URL), minLength: 32, maxLength: 48 });
  // Explicit sizes: short tokens (one cookie) and long ones (two chunks, or too large), not fast-check's ~10 characters.
  const tokenUnit = fc.constantFrom(...B64URL, '.', '~', '+', '/');
  const tokenArb = fc.oneof(
    fc.string({ unit: tokenUnit, minLength: 1, maxLength: 1200, size: 'max' }),
    // Up to 4,500 each: two such tokens reach past the two chunks (7,800 sealed characters) a session cookie may take.
    fc.string({ unit: tokenUnit, minLength: 1200, maxLength: 4500, size: 'max' }),
  );
  const chunksOf = (set: string[]) => set.filter((l) => !/Max-Age=0/.test(l)).length;
  const sessionArb: fc.Arbitrary<SessionData> = fc.record(
    {
      id: fc.string({ unit: fc.constantFrom(...B64URL), minLength: 1, maxLength: 30 }),
      accessToken: tokenArb,
      refreshToken: tokenArb,
      tokenType: fc.constantFrom('Bearer', 'JWT'),
      expiresAt: fc.integer({ min: NOW, max: NOW + 86400 }),
      lifetime: fc.integer({ min: 1, max: 86400 }),
      createdAt: fc.integer({ min: NOW - 86400, max: NOW }),
      touchedAt: fc.integer({ min: NOW - 3600, max: NOW }),
    },
    { requiredKeys: ['id', 'accessToken', 'tokenType', 'expiresAt', 'lifetime', 'createdAt', 'touchedAt'] },
  );
  const make = (secret: string | string[]) => sessionCookieFor({ secret });
  /** Sessions small enough for a cookie (the writer refuses the rest, as the first property shows). */
  const fittingSessionArb = sessionArb.filter((s) => {
    try {
      make(SECRET).serialize(s, NOW, []);
      return true;
    } catch {
      return false;
    }
  });
  const pairs = (setCookie: string[]) =>
    setCookie
      .filter((l) => !/Max-Age=0/.test(l))
      .map((l) => l.split(';')[0])
      .join('; ');

  it('round-trips any session that fits (one cookie or two chunks, every line under 4 KB) and refuses at write any that would not read back (1,000 runs)', () => {
    const sc = make(SECRET);
    const outcome = (s: SessionData): string => {
      try {
        return `${chunksOf(sc.serialize(s, NOW, []))} cookie(s)`;
      } catch {
        return 'refused';
      }
    };
    // The distribution of outcomes, printed once (fast-check's statistics).
    fc.statistics(sessionArb, outcome, { numRuns: 1000, seed: 11 });
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(sessionArb, (s) => {
        let set: string[];
        try {
          set = sc.serialize(s, NOW, []);
        } catch (err) {
          // Too large for the two chunks the reader accepts: refused by the writer, nothing written.
          expect(err).toMatchObject({ code: 'upstream_error', status: 502 });
          seen.set('refused', (seen.get('refused') ?? 0) + 1);
          return;
        }
        const n = chunksOf(set);
        seen.set(String(n), (seen.get(String(n)) ?? 0) + 1);
        expect(n).toBeLessThanOrEqual(2);
        for (const line of set) expect(line.length).toBeLessThan(4096);
        expect(sc.read(pairs(set))).toEqual({ data: s, names: set.map((l) => l.split('=')[0]), stale: false });
      }),
      { numRuns: 1000, seed: 11 },
    );
    // Every side was reached: one cookie, two chunks, and sessions too large for a cookie.
    expect(seen.get('1') ?? 0).toBeGreaterThan(100);
    expect(seen.get('2') ?? 0).toBeGreaterThan(100);
    expect(seen.get('refused') ?? 0).toBeGreaterThan(50);
  });

  it('key rotation: a cookie sealed with any listed secret opens once (no trial decryption), is stale unless sealed with the first, and reseals with the first (300 runs)', () => {
    const decipher = jest.spyOn(require('node:crypto') as typeof import('node:crypto'), 'createDecipheriv');
    try {
      fc.assert(
        fc.property(
          fc.uniqueArray(secretArb, { minLength: 1, maxLength: 4 }),
          fc.nat(),
          fittingSessionArb,
          secretArb,
          (secrets, k, s, stranger) => {
            fc.pre(!secrets.includes(stranger));
            const signer = secrets[k % secrets.length]!;
            const header = pairs(make(signer).serialize(s, NOW, []));
            const rotated = make(secrets);
            decipher.mockClear();
            const read = rotated.read(header);
            expect(decipher).toHaveBeenCalledTimes(1);
            expect(read.data).toEqual(s);
            expect(read.stale).toBe(signer !== secrets[0]);
            const resealed = pairs(rotated.serialize(read.data!, NOW, read.names));
            expect(make(secrets[0]!).read(resealed)).toMatchObject({ data: s, stale: false });
            decipher.mockClear();
            expect(make([stranger]).read(header).data).toBeUndefined();
            expect(decipher).not.toHaveBeenCalled();
          },
        ),
        { numRuns: 300, seed: 12 },
      );
    } finally {
      decipher.mockRestore();
    }
  });
});
