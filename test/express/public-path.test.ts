import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { Emulator } from '../../lib/testing';
import { canonicalPath, isPublicPath } from '../../lib/express/public-path';
import { EXPRESS_VERSIONS, createTestApp, startTestEmulator } from '../helpers/app';
import { serve, type Served } from '../helpers/serve';

// A public prefix must not be escaped by a path that starts with it but resolves elsewhere once
// percent-decoded and dot-segment-normalised. express.static() is mounted
// at the root over a folder holding a public `assets/` and a protected `secret.txt` beside it.

const SECRET_TEXT = 'TOP-SECRET-FILE-CONTENT';
const CSS = 'body{color:#123}';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-guard-static-'));
  fs.mkdirSync(path.join(root, 'assets'));
  fs.writeFileSync(path.join(root, 'assets', 'app.css'), CSS);
  fs.writeFileSync(path.join(root, 'assets', 'my file.css'), CSS);
  fs.writeFileSync(path.join(root, 'secret.txt'), SECRET_TEXT);
  fs.mkdirSync(path.join(root, 'private'));
  fs.writeFileSync(path.join(root, 'private', 'secret.txt'), SECRET_TEXT);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

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

/** Ways to write a dot, a slash and a backslash in a request path, as an attacker would. */
const DOT = ['.', '%2e', '%2E'];
const SLASH = ['/', '%2f', '%2F', '//', '\\', '%5c', '%5C'];

/** `..` spelled in every mix of raw and escaped dots. */
const dotDot = fc.tuple(fc.constantFrom(...DOT), fc.constantFrom(...DOT)).map(([a, b]) => a + b);
const sep = fc.constantFrom(...SLASH);
/** Something between `/assets/` and the escape: nothing, a real or made-up folder, a `.` segment. */
const detour = fc.array(fc.constantFrom('x', 'assets', '.', '%2e', 'a%2fb', ''), { maxLength: 3 });
/** Where the escape lands: the protected file beside the public folder, or one deeper. */
const target = fc.constantFrom('secret.txt', 'private/secret.txt', 'private%2fsecret.txt', 'secr%65t.txt');

/** Paths that start with the public prefix but resolve outside it. */
const escapes = fc
  .record({
    detour,
    ups: fc.array(fc.tuple(dotDot, sep), { minLength: 1, maxLength: 3 }),
    target,
    lead: sep,
    extra: fc.constantFrom('', '?x=1', '#frag'),
  })
  .map(({ detour: d, ups, target: t, lead, extra }) => {
    const middle = d.map((seg) => `${seg}/`).join('');
    // Each detour segment needs its own `..`; add enough of them, then the attacker's own ones.
    const climb = d
      .filter((seg) => seg !== '' && seg !== '.' && seg !== '%2e')
      .map(() => '../')
      .join('');
    return `/assets${lead}${middle}${climb}${ups.map(([dd, s]) => dd + s).join('')}${t}${extra}`;
  });

describe.each(EXPRESS_VERSIONS)('publicPaths with express.static at the root (%s)', (_name, express) => {
  let sso: Emulator;
  let served: Served;

  beforeAll(async () => {
    sso = await startTestEmulator();
    const app = createTestApp(express, sso, { publicPaths: ['/assets/*', '/health'] }, (a) => {
      a.use(express.static(root));
      a.get('/health', (_req, res) => res.send('ok'));
    });
    served = await serve(app);
  });
  afterAll(async () => {
    await served.close();
    await sso.close();
  });

  it('serves the public asset and the public exact path without a session', async () => {
    const css = await served.get('/assets/app.css');
    expect(css.status).toBe(200);
    expect(css.body).toBe(CSS);
    expect((await served.get('/assets/app.css?v=3')).body).toBe(CSS);
    expect((await served.get('/health')).body).toBe('ok');
    // An ordinary escape (a space) stays public: only escapes that change the path's shape fail closed.
    expect((await served.get('/assets/my%20file.css')).body).toBe(CSS);
  });

  it('protects the file beside the public folder', async () => {
    const res = await served.get('/secret.txt');
    expect(res.status).toBe(401);
    expect(res.body).not.toContain(SECRET_TEXT);
  });

  it.each([
    '/assets/../secret.txt',
    '/assets/%2e%2e/secret.txt',
    '/assets/%2E%2e/secret.txt',
    '/assets/.%2e/secret.txt',
    '/assets/%2e./secret.txt',
    '/assets/..%2fsecret.txt',
    '/assets/..%2Fsecret.txt',
    '/assets/%2e%2e%2fsecret.txt',
    '/assets//../secret.txt',
    '/assets/x/../../secret.txt',
    '/assets/./../secret.txt',
    '/assets/..\\secret.txt',
    '/assets/..%5csecret.txt',
    '/assets/../private/secret.txt',
    '/assets/%2e%2e/private%2fsecret.txt',
    '/assets/%252e%252e/secret.txt',
    '/assets/%c0%ae%c0%ae/secret.txt',
    '/assets/%00/../secret.txt',
    '/assets/..',
    '/health/../secret.txt',
  ])('never serves %s without a session', async (p) => {
    const res = await served.get(p);
    expect(res.body).not.toContain(SECRET_TEXT);
    expect(res.status).toBe(401);
  });

  it('a generated escape from /assets/ is never served without a session (500 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(escapes, async (p) => {
        const res = await served.get(p);
        expect(res.body).not.toContain(SECRET_TEXT);
        expect(res.status).not.toBe(200);
      }),
      { numRuns: 500 },
    );
  });

  it('the generated escapes are real: without the guard, express.static serves the secret for many of them (over 10%)', async () => {
    // The property above proves little unless its paths reach the protected file once resolved.
    const bare = express();
    bare.use(express.static(root));
    const plain = await serve(bare);
    try {
      let leaked = 0;
      await fc.assert(
        fc.asyncProperty(escapes, async (p) => {
          if ((await plain.get(p)).body.includes(SECRET_TEXT)) leaked++;
        }),
        { numRuns: 300 },
      );
      expect(leaked).toBeGreaterThan(30);
    } finally {
      await plain.close();
    }
  });
});
