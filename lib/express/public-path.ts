/**
 * Public-ness of a request path, decided on the path as a static file server or a router resolves
 * it (percent-decoded, dot segments and doubled slashes collapsed), and failing closed: a path that
 * is not already in that resolved form is never public.
 */

/** Raw characters a canonical path never holds: controls, backslash, and `%` escapes of `/`, `\`, NUL. */
// eslint-disable-next-line no-control-regex
const RAW_FORBIDDEN = /[\u0000-\u001f\u007f\\]|%(?:2f|5c|00)/i;
/** A dot segment (`.` or `..`) or an empty segment (doubled slash) anywhere in a path. */
const NOT_NORMAL = /\/\.{1,2}(?:\/|$)|\/\//;
/** A percent escape left after decoding once: a double-encoded path. */
const ESCAPE = /%[0-9a-f]{2}/i;

/**
 * The decoded path of a raw request path (no query) when it is canonical, `undefined` otherwise:
 * it must start with `/`, decode as UTF-8, and neither its raw nor its decoded form may hold dot
 * segments, doubled slashes, backslashes, control characters (NUL included), encoded slashes or a
 * second layer of escapes. Anything a file server or router could resolve to another path fails.
 */
export function canonicalPath(raw: string): string | undefined {
  if (raw.charCodeAt(0) !== 47 /* / */ || RAW_FORBIDDEN.test(raw) || NOT_NORMAL.test(raw)) return undefined;
  if (raw.indexOf('%') === -1) return raw;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(decoded) || NOT_NORMAL.test(decoded) || ESCAPE.test(decoded)) return undefined;
  return decoded;
}

/**
 * Whether a raw request path is public: its canonical form is one of `exact`, or starts with one of
 * `prefixes` (each ending in `/`). Both the raw and the decoded form must match, so neither a router
 * (raw) nor a file server (decoded) can be led outside the public area.
 */
export function isPublicPath(raw: string, exact: readonly string[], prefixes: readonly string[]): boolean {
  if (exact.length === 0 && prefixes.length === 0) return false;
  const decoded = canonicalPath(raw);
  if (decoded === undefined) return false;
  const matches = (p: string): boolean => exact.includes(p) || prefixes.some((prefix) => p.startsWith(prefix));
  return matches(raw) && matches(decoded);
}
