import type { LoginEntry } from '../telemetry/events';

/** Longest launch token accepted (a JWT access token is well under it); longer reads as invalid. */
export const MAX_LAUNCH_TOKEN = 4096;

/** How a launch arrived: the console's `?token=`, or the SaaS redirect's `?access_token=`. */
export type LaunchEntry = Extract<LoginEntry, 'launch-console' | 'launch-redirect'>;

/** The tokens a launch hands over. */
export interface LaunchTokens {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
}

/** A launch read from a request URL. Holds the raw tokens: never log or show it. */
export interface LaunchRequest {
  readonly entry: LaunchEntry;
  /** Undefined when missing, empty, repeated, too long, or ambiguous (`token` and `access_token`). */
  readonly tokens: LaunchTokens | undefined;
  /** The path of the URL, as sent. */
  readonly path: string;
  /** The query without the token parameters (`''` or `?…`), the other parameters kept as sent. */
  readonly query: string;
  /** The launch route's `returnTo` (decoded), when given once. */
  readonly returnTo: string | undefined;
}

/**
 * Whether a URL's query might carry `access_token` or `refresh_token`: two `indexOf`, nothing
 * allocated, so non-launch requests pay next to nothing for the launch check.
 */
export function mayCarryTokens(url: string): boolean {
  const q = url.indexOf('?');
  return q !== -1 && url.indexOf('_token', q) !== -1;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The single, non-empty, not oversized value of a parameter; undefined otherwise. */
function single(values: string[] | undefined): string | undefined {
  if (values === undefined || values.length !== 1) return undefined;
  const v = values[0]!;
  return v === '' || v.length > MAX_LAUNCH_TOKEN ? undefined : v;
}

/**
 * Reads a launch from a URL (path and query). On the launch route (`onRoute`) `token` (console) or
 * `access_token` (+ `refresh_token`) is read, and `returnTo`; elsewhere only `access_token` and
 * `refresh_token` (`token` is a generic name other routes may use), and a URL without them is no
 * launch (undefined). Repeated or malformed token parameters read as a launch without tokens.
 */
export function readLaunch(url: string, onRoute: boolean): LaunchRequest | undefined {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const found = new Map<string, string[]>();
  const kept: string[] = [];
  const returnTos: string[] = [];
  if (q !== -1) {
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = decode(eq === -1 ? part : part.slice(0, eq));
      if (key === 'access_token' || key === 'refresh_token' || (onRoute && key === 'token')) {
        const value = eq === -1 ? '' : decode(part.slice(eq + 1));
        const list = found.get(key);
        if (list === undefined) found.set(key, [value]);
        else list.push(value);
        continue;
      }
      if (onRoute && key === 'returnTo') returnTos.push(eq === -1 ? '' : decode(part.slice(eq + 1)));
      kept.push(part);
    }
  }
  if (!onRoute && found.size === 0) return undefined;
  const console_ = found.has('token');
  const entry: LaunchEntry = console_
    ? 'launch-console'
    : found.has('access_token')
      ? 'launch-redirect'
      : 'launch-console';
  const accessToken = console_
    ? found.has('access_token')
      ? undefined
      : single(found.get('token'))
    : single(found.get('access_token'));
  const refreshToken = found.has('refresh_token') ? single(found.get('refresh_token')) : undefined;
  const valid = accessToken !== undefined && (refreshToken !== undefined || !found.has('refresh_token'));
  return {
    entry,
    tokens: valid ? { accessToken, refreshToken } : undefined,
    path,
    query: kept.length === 0 ? '' : `?${kept.join('&')}`,
    returnTo: returnTos.length === 1 ? returnTos[0] : undefined,
  };
}

/**
 * A same-origin path with any `access_token`/`refresh_token` parameters removed (a `returnTo`
 * must never carry a token into a Location either).
 */
export function withoutTokens(pathAndQuery: string): string {
  if (!mayCarryTokens(pathAndQuery)) return pathAndQuery;
  const hash = pathAndQuery.indexOf('#');
  const main = hash === -1 ? pathAndQuery : pathAndQuery.slice(0, hash);
  const read = readLaunch(main, false);
  return read === undefined ? pathAndQuery : read.path + read.query + (hash === -1 ? '' : pathAndQuery.slice(hash));
}
