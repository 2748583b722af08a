import { percentEncode } from '../../lib/cloud/signer';
import { signSpiParams, type SpiSignatureForm } from '../../lib/appcenter/spi-signature';

/** `time_stamp` as AppCenter sends it (`2021-06-22T09:15:03Z`), `offsetMs` from now. */
export function spiTimestamp(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** base64 of a JSON value, as AppCenter passes `spec` and `cloud_info`. */
export function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64');
}

/** A signed SPI query string (percent-encoded on the wire), signed in `form` with `key`. */
export function signedQuery(
  key: string,
  params: Record<string, string>,
  form: SpiSignatureForm = 'plain',
): { query: string; signature: string } {
  const signature = signSpiParams(key, params, form);
  const query = Object.entries({ ...params, signature })
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  return { query, signature };
}
