import type { ServerResponse } from 'node:http';

/** Attributes of a cookie we write. Values we write are base64url, so no encoding is needed. */
export interface CookieAttributes {
  maxAge: number;
  path: string;
  secure: boolean;
  domain?: string | undefined;
}

/**
 * Reads the cookies whose name is `name` or starts with `name` + `.` from a Cookie header.
 * Only those are collected (the header may carry dozens of unrelated cookies); the first occurrence
 * of a duplicated name wins, as in the `cookie` package. Never throws.
 */
export function readCookies(header: string | undefined, name: string): Map<string, string> | undefined {
  if (header === undefined || header.indexOf(name) === -1) return undefined;
  let found: Map<string, string> | undefined;
  const len = header.length;
  let pos = 0;
  // The next "=" at or after `pos`, searched again only once passed: a header of many ";" and no
  // "=" (or one far away) is then read in one pass, not once per pair (linear, never quadratic).
  let eq = -1;
  while (pos < len) {
    let end = header.indexOf(';', pos);
    if (end === -1) end = len;
    if (eq < pos && eq !== len) {
      eq = header.indexOf('=', pos);
      if (eq === -1) eq = len;
    }
    if (eq < end) {
      let ns = pos;
      while (ns < eq && (header.charCodeAt(ns) === 32 || header.charCodeAt(ns) === 9)) ns++;
      let ne = eq;
      while (ne > ns && (header.charCodeAt(ne - 1) === 32 || header.charCodeAt(ne - 1) === 9)) ne--;
      // Cheap prefix test before slicing: most cookies are not ours.
      if (
        ne - ns >= name.length &&
        header.startsWith(name, ns) &&
        (ne - ns === name.length || header.charCodeAt(ns + name.length) === 46)
      ) {
        const key = header.slice(ns, ne);
        if (found === undefined) found = new Map();
        if (!found.has(key)) {
          let value = header.slice(eq + 1, end).trim();
          if (value.length > 1 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34)
            value = value.slice(1, -1);
          found.set(key, value);
        }
      }
    }
    pos = end + 1;
  }
  return found;
}

/** Serializes a Set-Cookie value: HttpOnly and SameSite=Lax always, Secure on https. */
export function serializeCookie(name: string, value: string, attrs: CookieAttributes): string {
  let out = `${name}=${value}; Max-Age=${Math.max(0, Math.floor(attrs.maxAge))}; Path=${attrs.path}; HttpOnly; SameSite=Lax`;
  if (attrs.maxAge <= 0) out += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  if (attrs.secure) out += '; Secure';
  if (attrs.domain) out += `; Domain=${attrs.domain}`;
  return out;
}

/** Adds Set-Cookie lines to a response, keeping the ones already set by the app or by us. */
export function appendSetCookie(res: ServerResponse, cookies: string[]): void {
  if (cookies.length === 0 || res.headersSent) return;
  const prev = res.getHeader('set-cookie');
  if (prev === undefined) res.setHeader('set-cookie', cookies);
  else res.setHeader('set-cookie', (Array.isArray(prev) ? prev : [String(prev)]).concat(cookies));
}
