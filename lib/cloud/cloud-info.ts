import { SsoGuardError } from '../errors';

/** The server addresses an AppCenter `cloud_info` value carries, as origins. */
export interface CloudInfo {
  /** From `sso_server`: the SSO origin, e.g. `https://api.qingcloud.com:7777` (the `ssoBaseUrl` option). */
  readonly ssoBaseUrl: string;
  /** From `api_server`: the cloud API origin (the `cloud.apiBaseUrl` option). */
  readonly apiBaseUrl: string;
}

/** Far more than two host names need; bounds the work done on a hostile value. */
const MAX_CHARS = 8192;
const SERVER_RULE =
  'must be a host[:port] such as "api.qingcloud.com:7777" or an http(s) origin, without path, credentials, query or fragment';

/** One DNS label: letters, digits, inner hyphens, at most 63 characters. */
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** `[scheme://]host[:port][/]`, ASCII only: anything else (userinfo, path, `\`, spaces) fails here. */
const SERVER = new RegExp(`^(?:(https?)://)?(\\[[0-9A-Fa-f:.]+\\]|${LABEL}(?:\\.${LABEL})*)(?::(\\d{1,5}))?/?$`, 'i');
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * Reads AppCenter's `cloud_info`: base64 (standard or URL-safe, padding optional, line breaks
 * ignored) of the JSON `{ "sso_server": "…", "api_server": "…" }`. A server given as
 * `host[:port]` (the documented form, e.g. `api.qingcloud.com:7777`) becomes
 * `https://host[:port]`; one given with an `http://` or `https://` scheme keeps it. Other fields
 * are ignored.
 *
 * Throws an `invalid_option` SsoGuardError whose message names `cloud_info` and the rule broken,
 * never the value (it is configuration that may be private).
 */
export function parseCloudInfo(value: unknown): CloudInfo {
  if (typeof value !== 'string' || value.trim() === '')
    throw refused('cloud_info must be a non-empty string: base64 of JSON {"sso_server", "api_server"}');
  if (value.length > MAX_CHARS) throw refused(`cloud_info is too long (at most ${MAX_CHARS} characters)`);
  const body = parseJson(decodeBase64(value.replace(/[\t\n\r ]/g, '')));
  const sso = Object.hasOwn(body, 'sso_server') ? body.sso_server : undefined;
  const api = Object.hasOwn(body, 'api_server') ? body.api_server : undefined;
  if (typeof sso !== 'string' || typeof api !== 'string')
    throw refused('cloud_info must be a JSON object with string fields "sso_server" and "api_server"');
  return Object.freeze({ ssoBaseUrl: serverOrigin('sso_server', sso), apiBaseUrl: serverOrigin('api_server', api) });
}

function decodeBase64(text: string): Buffer {
  // Buffer.from(…, 'base64') skips characters it does not know, so the alphabet is checked first.
  const standard = /^[A-Za-z0-9+/]*={0,2}$/.test(text);
  const urlSafe = /^[A-Za-z0-9_-]*={0,2}$/.test(text);
  const padded = text.endsWith('=');
  if ((!standard && !urlSafe) || (padded ? text.length % 4 !== 0 : text.length % 4 === 1))
    throw refused('cloud_info is not valid base64');
  return Buffer.from(text, 'base64');
}

function parseJson(bytes: Buffer): Record<string, unknown> {
  let body: unknown;
  try {
    // fatal: invalid UTF-8 is an error rather than U+FFFD; a leading BOM is dropped.
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    // The cause is dropped on purpose: JSON.parse's message quotes the input.
    throw refused('cloud_info is not base64 of UTF-8 JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw refused('cloud_info must be a JSON object with string fields "sso_server" and "api_server"');
  }
  return body as Record<string, unknown>;
}

/** `https://host[:port]` (or the given http(s) scheme) of one server field. */
function serverOrigin(field: string, raw: string): string {
  const m = SERVER.exec(raw);
  const [, scheme, host = '', port] = m ?? [];
  const bad = (): SsoGuardError => refused(`cloud_info.${field} ${SERVER_RULE}`);
  if (!m || host.length > 253 || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) throw bad();
  // A numeric last label makes WHATWG URL read the host as IPv4 ("1.2.3" -> 1.2.0.3): only a
  // plain dotted quad is taken as an address.
  if (!host.startsWith('[') && /(?:^|\.)\d+$/.test(host) && !IPV4.test(host)) throw bad();
  let url: URL;
  try {
    url = new URL(`${(scheme ?? 'https').toLowerCase()}://${host}${port === undefined ? '' : `:${port}`}`);
  } catch {
    throw bad(); // e.g. an invalid IPv6 literal
  }
  // A label such as "0x7f000001" is read by the URL parser as an IPv4 address (127.0.0.1): an
  // address is taken only as written, a dotted quad.
  if (IPV4.test(url.hostname) && url.hostname !== host) throw bad();
  return url.origin;
}

function refused(message: string): SsoGuardError {
  return new SsoGuardError('invalid_option', message);
}
