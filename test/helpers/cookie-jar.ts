/**
 * A small browser-like cookie jar for one host: keeps cookies by name and Path, drops them on
 * Max-Age=0, and sends for a request path the ones whose Path matches (RFC 6265 path-match).
 * Like browsers, it ignores a `__Host-` cookie that is not Secure, has a Domain or a Path other
 * than `/`, and a `__Secure-` cookie that is not Secure (RFC 6265bis, cookie name prefixes).
 */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  /** Stores the Set-Cookie lines of a response. */
  store(setCookie: readonly string[] | string | undefined): void {
    const lines = setCookie === undefined ? [] : typeof setCookie === 'string' ? [setCookie] : setCookie;
    for (const line of lines) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const secure = attrs.some((a) => /^secure$/i.test(a));
      const domain = attrs.some((a) => /^domain=/i.test(a));
      if (/^__host-/i.test(name) && (!secure || domain || path !== '/')) continue;
      if (/^__secure-/i.test(name) && !secure) continue;
      const key = `${name}\u0000${path}`;
      if (attrs.some((a) => /^max-age=0$/i.test(a))) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  /** The Cookie header a browser sends for `path` (longer Paths first, as browsers order them). */
  header(path: string): string {
    const p = path.split('?')[0]!;
    const matches = (cp: string): boolean =>
      p === cp || (p.startsWith(cp) && (cp.endsWith('/') || p.charAt(cp.length) === '/'));
    return [...this.cookies.values()]
      .filter((c) => matches(c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** Names of the cookies held, whatever their path. */
  names(): string[] {
    return [...this.cookies.values()].map((c) => c.name);
  }
}
