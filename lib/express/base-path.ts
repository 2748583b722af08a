import type { IncomingMessage } from 'node:http';

/**
 * How a request's path relates to `appBaseUrl`'s base path (`/base` in `https://host/base`).
 * Two deployments are told apart per request, with no option:
 * - the app sees the full path (`/base/login`, whether `auth()` is mounted at the root or at
 *   `app.use('/base', …)`): the path starts with the base path, which is stripped for routing;
 * - a proxy strips the prefix (the app sees `/login`): the path is used as is, and the base path
 *   is put back wherever a browser-visible URL is needed (`returnTo`, redirects).
 */
export interface RequestPaths {
  /** The path relative to the base path (no query), for the auth routes and `publicPaths`. */
  route: string;
  /** The URL (path and query) as the browser sees it, base path included. */
  external: string;
}

/** Splits a request's URL against `basePath` (`''` when `appBaseUrl` has no path). */
export function requestPaths(req: IncomingMessage & { originalUrl?: string }, basePath: string): RequestPaths {
  const url = req.url ?? '/';
  if (basePath === '') {
    const q = url.indexOf('?');
    return { route: q === -1 ? url : url.slice(0, q), external: req.originalUrl ?? url };
  }
  const full = req.originalUrl ?? url;
  const q = full.indexOf('?');
  const path = q === -1 ? full : full.slice(0, q);
  if (path === basePath || path.startsWith(`${basePath}/`))
    return { route: path.slice(basePath.length) || '/', external: full };
  return { route: path, external: basePath + full };
}

/**
 * `requestPaths(req, basePath).route` without building the pair (called on every request): with
 * no base path and no query string it is `req.url` itself, with nothing allocated.
 */
export function routePath(req: IncomingMessage & { originalUrl?: string }, basePath: string): string {
  if (basePath === '') {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  }
  return requestPaths(req, basePath).route;
}

/** A same-origin path made browser-visible under the base path: one outside it is prefixed with it. */
export function underBase(path: string, basePath: string): string {
  if (
    basePath === '' ||
    path === basePath ||
    path.startsWith(`${basePath}/`) ||
    path.startsWith(`${basePath}?`) ||
    path.startsWith(`${basePath}#`)
  )
    return path;
  return basePath + path;
}
