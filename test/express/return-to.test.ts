import fc from 'fast-check';
import payloads from '../fixtures/open-redirect-payloads.json';
import { safeReturnTo } from '../../lib/express/return-to';

const ORIGIN = 'http://app.test';

/** What a browser does with `Location: <value>` on a page of ORIGIN (WHATWG URL parsing). */
function browserOrigin(location: string): string {
  return new URL(location, `${ORIGIN}/login`).origin;
}

describe('safeReturnTo', () => {
  it(`keeps every one of the ${payloads.malicious.length} known open-redirect payloads on the app's origin`, () => {
    expect(payloads.malicious.length).toBe(526);
    const leaked: string[] = [];
    for (const { value } of payloads.malicious) {
      const out = safeReturnTo(value, ORIGIN);
      if (out !== undefined && browserOrigin(out) !== ORIGIN) leaked.push(value);
      // The value itself, sent as a query parameter and decoded once more by a sloppy proxy, too.
      const twice = safeReturnTo(safeDecode(value), ORIGIN);
      if (twice !== undefined && browserOrigin(twice) !== ORIGIN) leaked.push(`decoded:${value}`);
    }
    expect(leaked).toEqual([]);
  });

  it('refuses every malicious payload outright (none is a plain same-origin relative path)', () => {
    const accepted = payloads.malicious
      .filter(({ value }) => safeReturnTo(value, ORIGIN) !== undefined)
      .map((p) => p.value);
    expect(accepted).toEqual([]);
  });

  it.each(payloads.safe.map((p) => [p.value]))('accepts the safe path %s', (value) => {
    const out = safeReturnTo(value, ORIGIN);
    if (value.startsWith('/')) {
      expect(out).toBeDefined();
      expect(browserOrigin(out!)).toBe(ORIGIN);
    } else {
      // Safe in the source's eyes (an absolute URL to the source's own host), but not a relative path for us.
      expect(out === undefined || browserOrigin(out) === ORIGIN).toBe(true);
    }
  });

  it('normalizes paths and keeps query and fragment', () => {
    expect(safeReturnTo('/a/./b/../c?x=1&y=%20#h', ORIGIN)).toBe('/a/c?x=1&y=%20#h');
    expect(safeReturnTo('/ünïcode', ORIGIN)).toBe('/%C3%BCn%C3%AFcode');
    expect(safeReturnTo('/', ORIGIN)).toBe('/');
  });

  it.each([
    ['//evil.com'],
    ['/\\evil.com'],
    ['\\/evil.com'],
    ['/\t/evil.com'],
    ['/\n/evil.com'],
    ['https://evil.com'],
    ['javascript:alert(1)'],
    ['evil.com'],
    ['/%0a/evil'],
    [''],
    ['x'.repeat(3000)],
  ])('refuses %j', (value) => {
    const out = safeReturnTo(value, ORIGIN);
    expect(out === undefined || browserOrigin(out) === ORIGIN).toBe(true);
    if (!value.startsWith('/%0a')) expect(out).toBeUndefined();
  });

  it('refuses non-strings', () => {
    for (const v of [undefined, null, 1, ['/a'], { a: 1 }]) expect(safeReturnTo(v, ORIGIN)).toBeUndefined();
  });

  it('never yields a Location a browser resolves off-origin (property)', () => {
    const piece = fc.constantFrom(
      '/',
      '\\',
      '//',
      '.',
      '..',
      '%2f',
      '%5c',
      '%2e',
      '@',
      ':',
      '\t',
      '\n',
      'evil.com',
      'http:',
      'javascript:',
      '?',
      '#',
      '%00',
      '\u3002',
      '\uff0f',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.array(piece, { maxLength: 8 }).map((a) => a.join('')),
        ),
        (value) => {
          const out = safeReturnTo(value, ORIGIN);
          if (out === undefined) return true;
          return out.startsWith('/') && !out.startsWith('//') && browserOrigin(out) === ORIGIN;
        },
      ),
      { numRuns: 20000, seed: 42 },
    );
  });
});

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
