import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { SsoGuardError } from '../errors';

/** Largest upstream answer we read (bytes); a bigger one is an upstream error, not a memory spike. */
export const MAX_UPSTREAM_BODY = 256 * 1024;

/**
 * What every upstream request relies on, set per request so that any axios instance (an app's
 * `httpClient` with its own defaults) works: no redirects, bounded raw text bodies, every status.
 */
const PER_REQUEST = {
  maxRedirects: 0,
  maxContentLength: MAX_UPSTREAM_BODY,
  maxBodyLength: MAX_UPSTREAM_BODY,
  responseType: 'text',
  transformResponse: [(data: unknown) => data],
  validateStatus: () => true,
} as const;

/** An axios instance for upstream calls: keep-alive, no proxy, and {@link PER_REQUEST} as defaults. */
export function createHttpClient(): AxiosInstance {
  return axios.create({
    httpAgent: new http.Agent({ keepAlive: true }),
    httpsAgent: new https.Agent({ keepAlive: true }),
    ...PER_REQUEST,
    transformResponse: [...PER_REQUEST.transformResponse],
    proxy: false,
  });
}

/**
 * Sends one request with a hard deadline covering connect, headers and body (axios's own
 * `timeout` is a socket-idle timer, which a slowly dripping body never trips).
 * Transport failures become SsoGuardErrors: timeout -> 504, unreachable -> 503, other -> 502.
 */
export async function send(
  client: AxiosInstance,
  config: Parameters<AxiosInstance['request']>[0],
  timeoutMs: number,
  what: string,
): Promise<AxiosResponse<string>> {
  // A timer cleared on completion, not AbortSignal.timeout(): that one keeps its timer (and the
  // signal) alive until it fires, long after the call answered.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  timer.unref();
  try {
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
  // Keep only the code and message as the cause, so logging the error can never print a secret.
  const err = Object.assign(new Error(raw instanceof Error ? raw.message : 'request failed'), { code });
  if (deadlinePassed || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') {
    return new SsoGuardError('upstream_timeout', `${what} did not answer in time`, { cause: err });
  }
  if (code === 'ERR_BAD_RESPONSE' || code === 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED') {
    return new SsoGuardError('upstream_error', `${what} sent an unreadable answer`, { cause: err });
  }
  if (code !== undefined && UNREACHABLE.has(code)) {
    return new SsoGuardError('upstream_unavailable', `${what} is unreachable`, { cause: err });
  }
  return new SsoGuardError('upstream_error', `${what} failed`, { cause: err });
}

/**
 * Parses an upstream JSON object body. Anything that is not a JSON object is an upstream error.
 */
export function parseJsonObject(res: AxiosResponse<string>, what: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(typeof res.data === 'string' ? res.data : '');
  } catch {
    throw new SsoGuardError('upstream_error', `${what} answered with non-JSON (HTTP ${res.status})`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SsoGuardError('upstream_error', `${what} answered with an unexpected body (HTTP ${res.status})`);
  }
  return body as Record<string, unknown>;
}

/** `ret_code` of a body, when it carries a non-zero one (the server's HTTP-200 error channel). */
export function nonZeroRetCode(body: Record<string, unknown>): number | undefined {
  const rc = body.ret_code;
  if (rc === undefined || rc === null) return undefined;
  const n = typeof rc === 'number' ? rc : Number(rc);
  // Zero however it is written ("0", "00", 0.0) is success, not an error "ret_code 0".
  if (n === 0) return undefined;
  return Number.isFinite(n) ? n : -1;
}
