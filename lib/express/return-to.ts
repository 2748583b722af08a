/** Longest `returnTo` we keep; longer values are dropped (they only bloat the transaction cookie). */
export const MAX_RETURN_TO = 2048;

// Control characters (tabs and newlines are stripped by URL parsers, so `/\t/evil` becomes `//evil`)
// and backslashes (browsers read `\` as `/` in special URLs) are refused outright.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

/**
 * A same-origin path to redirect to after login or logout, or `undefined` when `value` is not one.
 * Accepts only a string that starts with a single `/`, has no control characters or backslashes,
 * and still resolves to `origin` under WHATWG URL parsing (what browsers do with `Location`).
 * Returns the normalized path, query and fragment (dot segments resolved, non-ASCII escaped).
 */
export function safeReturnTo(value: unknown, origin: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return undefined;
  if (value.charCodeAt(0) !== 47 /* / */ || value.charCodeAt(1) === 47 || FORBIDDEN.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return undefined;
  }
  if (url.origin !== origin) return undefined;
  const path = url.pathname + url.search + url.hash;
  // Normalization (e.g. `/./%2e/` or `/..//x`) must not have produced a protocol-relative path.
  if (path.charCodeAt(1) === 47 || path.charCodeAt(1) === 92) return undefined;
  return path;
}
