import type { AxiosInstance } from 'axios';
import { SsoGuardError } from '../errors';
import { NodeHttpClient, type UpstreamRequest, type UpstreamResponse } from './node-http-client';

export type { UpstreamRequest, UpstreamResponse } from './node-http-client';

/** Largest upstream answer we read (bytes); a bigger one is an upstream error, not a memory spike. */
export const MAX_UPSTREAM_BODY = 256 * 1024;

/**
 * An upstream HTTP client: the package's own ({@link createHttpClient}) or an app's axios
 * instance (`httpClient`, `cloud.http`). axios is only ever imported as types here, so that it is
 * loaded only when an app brings its own instance.
 */
export type HttpClient = NodeHttpClient | AxiosInstance;

/**
 * What every upstream request relies on, set per request so that any axios instance (an app's
 * `httpClient` with its own defaults) works: no redirects, bounded raw text bodies, every status.
 * The package's own client does the same by construction.
 */
const PER_REQUEST = {
  maxRedirects: 0,
  maxContentLength: MAX_UPSTREAM_BODY,
  maxBodyLength: MAX_UPSTREAM_BODY,
  responseType: 'text',
  transformResponse: [(data: unknown) => data],
  validateStatus: () => true,
} as const;

/** The default upstream client: Node's http with keep-alive, no proxy, no redirects, text bodies. */
export function createHttpClient(): NodeHttpClient {
  return new NodeHttpClient();
}

/**
 * Sends one request with a hard deadline covering connect, headers and body (axios's own
 * `timeout` is a socket-idle timer, which a slowly dripping body never trips).
 * Transport failures become SsoGuardErrors: timeout -> 504, unreachable -> 503, other -> 502.
 */
export async function send(
  client: HttpClient,
  config: UpstreamRequest,
  timeoutMs: number,
  what: string,
): Promise<UpstreamResponse> {
  // A timer cleared on completion, not AbortSignal.timeout(): that one keeps its timer (and the
  // signal) alive until it fires, long after the call answered.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  timer.unref();
  try {
    if (client instanceof NodeHttpClient)
      return await client.request(config, { signal: controller.signal, maxBody: MAX_UPSTREAM_BODY });
    return await client.request<string>({
      ...config,
      ...PER_REQUEST,
      transformResponse: [...PER_REQUEST.transformResponse],
      timeout: timeoutMs,
      signal: controller.signal,
    });
  } catch (err) {
    throw transportError(err, what, controller.signal.aborted);
  } finally {
    clearTimeout(timer);
  }
}

/** Failure codes of a request that ran out of time (axios's, and an aborted request's). */
const TIMED_OUT = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED', 'ABORT_ERR']);

/** Failure codes of an answer that came but cannot be read (axios's, then the package client's). */
const UNREADABLE = new Set([
  'ERR_BAD_RESPONSE',
  'ERR_FR_MAX_BODY_LENGTH_EXCEEDED',
  'ERR_BODY_TOO_LARGE',
  'ERR_INCOMPLETE_BODY',
  'ERR_NO_RESPONSE',
  'ERR_CONTENT_ENCODING',
  'ERR_BAD_ENCODING',
]);

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ERR_SOCKET_CLOSED',
]);

function transportError(raw: unknown, what: string, deadlinePassed: boolean): SsoGuardError {
  const code = (raw as { code?: string } | null)?.code;
  // axios errors carry the request config (URL, headers, form body: tokens and client secret).
  // Keep only the code and message as the cause, so logging the error can never print a secret
  // (the package's own client's errors carry neither, but are scrubbed the same way).
  const err = Object.assign(new Error(raw instanceof Error ? raw.message : 'request failed'), { code });
  if (deadlinePassed || TIMED_OUT.has(code ?? '')) {
    return new SsoGuardError('upstream_timeout', `${what} did not answer in time`, { cause: err });
  }
  if (code !== undefined && UNREADABLE.has(code)) {
    return new SsoGuardError('upstream_error', `${what} sent an unreadable answer`, { cause: err });
  }
  if (code !== undefined && UNREACHABLE.has(code)) {
    return new SsoGuardError('upstream_unavailable', `${what} is unreachable`, { cause: err });
  }
  return new SsoGuardError('upstream_error', `${what} failed`, { cause: err });
}

/** The JSON object a body holds, or `undefined` when it holds anything else (not JSON, an array, a string, ...). */
export function jsonObject(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Parses an upstream JSON object body. Anything that is not a JSON object is an upstream error. */
export function parseJsonObject(res: UpstreamResponse, what: string): Record<string, unknown> {
  const body = jsonObject(res.data);
  if (body === undefined)
    throw new SsoGuardError(
      'upstream_error',
      `${what} answered with non-JSON or an unexpected body (HTTP ${res.status})`,
    );
  return body;
}

/**
 * The `ret_code` of a JSON body (the servers' HTTP-200 error channel), the one reading of it for
 * the SSO and the cloud API: `undefined` when absent, null or zero in any integer form (`0`,
 * `"0"`, `"00"`); the number for an integer (or a string of up to nine digits); `'malformed'`
 * for anything else.
 */
export function retCode(value: unknown): number | 'malformed' | undefined {
  if (value === undefined || value === null) return undefined;
  let n: number;
  if (typeof value === 'number' && Number.isInteger(value)) n = value;
  else if (typeof value === 'string' && /^-?\d{1,9}$/.test(value)) n = Number(value);
  else return 'malformed';
  return n === 0 ? undefined : n;
}
