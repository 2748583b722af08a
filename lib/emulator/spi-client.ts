import { percentEncode } from '../cloud/signer';
import { signSpiParams, type SpiSignatureForm } from '../appcenter/spi-signature';
import type { SpiAction } from '../appcenter/spi-actions';
import { optionError } from '../option-rules';

/** The SPI actions AppCenter sends. */
export type SpiCallAction = SpiAction;

/** How often AppCenter retries an action whose answer is not a 200 JSON success (after the first call). */
export const SPI_RETRIES: Readonly<Record<SpiCallAction, number>> = {
  CreateAppInstance: 3,
  RenewAppInstance: 3,
  UpgradeAppInstance: 3,
  ExpireAppInstance: 3,
  DeleteAppInstance: 3,
  TestConnection: 2,
};

/** Options of an SPI call sent like AppCenter sends it. */
export interface SpiCallOptions {
  /** The app's `secret_app_key`. */
  secretAppKey: string;
  /** The string-to-sign form (all four are what the app's router accepts). Default `'plain'`. */
  form?: SpiSignatureForm;
  /** Retries after the first call when the answer is not a 200 JSON success. Default: AppCenter's ({@link SPI_RETRIES}). */
  retries?: number;
  /** Wait between attempts, ms. Default 1000. */
  retryDelayMs?: number;
  /** How long one attempt may take, ms. Default 15000 (AppCenter's limit). */
  timeoutMs?: number;
  /** Milliseconds since the epoch, for `time_stamp`. Default `Date.now`. */
  clock?: () => number;
}

/** One attempt of an SPI call. */
export interface SpiAttempt {
  /** HTTP status; absent when no answer came (timeout, connection refused). */
  status?: number;
  /** The JSON body, when the answer was JSON. */
  body?: unknown;
  /** Why the attempt failed: `'timeout'`, `'not JSON'`, `'network error'`, `'success is not true'`, `'HTTP <status>'`. */
  problem?: string;
}

/** The outcome of an SPI call and its retries. */
export interface SpiCallResult {
  /** Whether an attempt was answered 200 JSON `{success: true, …}`. */
  success: boolean;
  /** The last answer's JSON body (the successful one when `success`). */
  body: unknown;
  /** Every attempt, in order (`attempts.length` is the number of calls made). */
  attempts: SpiAttempt[];
}

/** Parameter values: strings as sent; numbers and booleans stringified; objects (`spec`, `cloud_info`) as base64 JSON. */
export type SpiCallParams = Record<string, string | number | boolean | object | undefined>;

function wireValue(name: string, value: string | number | boolean | object): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && typeof value === 'object') return Buffer.from(JSON.stringify(value)).toString('base64');
  throw optionError(`params.${name}`, 'a string, number, boolean or object', value);
}

/** `2021-06-22T09:15:03Z`: ISO 8601 without milliseconds, as AppCenter writes it. */
function spiTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function attempt(url: URL, query: string, signature: string, timeoutMs: number): Promise<SpiAttempt> {
  let res: Response;
  try {
    res = await fetch(`${url.origin}${url.pathname}?${query}`, {
      headers: { app_signature: signature, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    return { problem: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network error' };
  }
  const text = await res.text().catch(() => '');
  let body: unknown;
  const json = /^application\/json\b/i.test(res.headers.get('content-type') ?? '');
  try {
    body = json ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.status !== 200) return { status: res.status, body, problem: `HTTP ${res.status}` };
  if (body === undefined) return { status: res.status, problem: 'not JSON' };
  const success = (body as { success?: unknown } | null)?.success === true;
  return success ? { status: res.status, body } : { status: res.status, body, problem: 'success is not true' };
}

/**
 * Sends one SPI call the way AppCenter does: GET `url` with `action`, `time_stamp` and `params`
 * (plus the parameters already in `url`'s query, which are signed too), signed with
 * `secretAppKey`, the signature both in the query (`signature`) and the `app_signature` header;
 * retried (newly stamped and signed) while the answer is not HTTP 200 JSON `success: true`
 * within `timeoutMs`.
 */
export async function sendSpiCall(
  url: string,
  action: SpiCallAction,
  params: SpiCallParams,
  options: SpiCallOptions,
): Promise<SpiCallResult> {
  const target = URL.canParse(url) ? new URL(url) : undefined;
  if (target === undefined || (target.protocol !== 'http:' && target.protocol !== 'https:'))
    throw optionError('url', 'an http(s) URL', url);
  if (!(action in SPI_RETRIES))
    throw optionError(
      'action',
      Object.keys(SPI_RETRIES)
        .map((a) => JSON.stringify(a))
        .join(', '),
      action,
    );
  if (typeof options?.secretAppKey !== 'string' || options.secretAppKey === '')
    throw optionError('secretAppKey', 'a non-empty string', undefined);
  const retries = options.retries ?? SPI_RETRIES[action];
  const clock = options.clock ?? Date.now;
  const given: Record<string, string> = Object.fromEntries(target.searchParams);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) given[name] = wireValue(name, value);
  const attempts: SpiAttempt[] = [];
  for (let i = 0; i <= retries; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 1000));
    const signed = { ...given, action, time_stamp: spiTimestamp(clock()) };
    const signature = signSpiParams(options.secretAppKey, signed, options.form ?? 'plain');
    const query = Object.entries({ ...signed, signature })
      .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
      .join('&');
    const result = await attempt(target, query, signature, options.timeoutMs ?? 15_000);
    attempts.push(result);
    if (result.problem === undefined) return { success: true, body: result.body, attempts };
  }
  return { success: false, body: attempts.at(-1)?.body, attempts };
}
