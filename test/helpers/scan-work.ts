/**
 * Characters a parser scans with `indexOf` (the cookie readers' only search), counted on a String
 * object whose `indexOf` is instrumented: the work of one parse, measured without a clock.
 */
export function scanned(header: string, parse: (header: string) => unknown): number {
  let work = 0;
  const counted = Object.assign(new String(header), {
    indexOf(search: string, from = 0): number {
      const at = String.prototype.indexOf.call(header, search, from);
      work += (at === -1 ? header.length : at + search.length) - from;
      return at;
    },
  });
  parse(counted as unknown as string);
  return work;
}

/** Cookie headers of `n` extra characters after a session cookie `<name>=abc`, by shape (pathological ones first). */
export function cookieHeaderShapes(name: string): Record<string, (n: number) => string> {
  const session = `${name}=abc; `;
  return {
    'only ";"': (n) => session + ';'.repeat(n),
    '"a;" pairs without "="': (n) => session + 'a;'.repeat(n / 2),
    'many small cookies': (n) => session + 'c=1;'.repeat(n / 4),
    '"=" only': (n) => session + '='.repeat(n),
    'a long value': (n) => session + `x=${'v'.repeat(n)}`,
  };
}
