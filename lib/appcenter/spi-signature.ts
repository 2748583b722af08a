import { createHmac } from 'node:crypto';
import { byUtf8, percentEncode } from '../cloud/signer';
import { safeEqual } from '../util/crypto';

/**
 * The four strings AppCenter's SPI signature may be computed over. The developer guide signs the
 * sorted `k=v` pairs joined by `&` and leaves the value encoding open; a public vendor sample
 * percent-encodes (as the cloud API signer does) and prefixes `GET\n`. So:
 * - `plain`: `a=1&b=x y`
 * - `encoded`: `a=1&b=x%20y` (names and values through the API signer's `percentEncode`)
 * - `get-plain`, `get-encoded`: the same with `GET\n` in front.
 */
export type SpiSignatureForm = 'plain' | 'encoded' | 'get-plain' | 'get-encoded';

/** Every accepted form, in the order they are tried. */
export const SPI_SIGNATURE_FORMS: readonly SpiSignatureForm[] = ['plain', 'encoded', 'get-plain', 'get-encoded'];

/**
 * The string to sign of `params` in `form`: every parameter except `signature`, sorted by name
 * (UTF-8 byte order, as the API signer sorts), `k=v` joined by `&`. Returns undefined for a
 * parameter that has no UTF-8 form (a lone surrogate) in the encoded forms.
 */
export function spiStringToSign(params: Readonly<Record<string, string>>, form: SpiSignatureForm): string | undefined {
  const encode = form === 'encoded' || form === 'get-encoded';
  const names = Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort(byUtf8);
  let pairs: string[];
  try {
    pairs = names.map((k) => (encode ? `${percentEncode(k)}=${percentEncode(params[k]!)}` : `${k}=${params[k]!}`));
  } catch {
    return undefined;
  }
  const body = pairs.join('&');
  return form === 'get-plain' || form === 'get-encoded' ? `GET\n${body}` : body;
}

/** base64(HMAC-SHA256(secretAppKey, stringToSign)). */
export function spiHmac(secretAppKey: string, stringToSign: string): string {
  return createHmac('sha256', secretAppKey).update(stringToSign, 'utf8').digest('base64');
}

/**
 * Signs SPI parameters as AppCenter does: the base64 signature of {@link spiStringToSign} in
 * `form` (default `plain`, the form of the developer guide). `params` must not hold `signature`.
 */
export function signSpiParams(
  secretAppKey: string,
  params: Readonly<Record<string, string>>,
  form: SpiSignatureForm = 'plain',
): string {
  const text = spiStringToSign(params, form);
  if (text === undefined) throw new TypeError('SPI parameters must be well-formed Unicode');
  return spiHmac(secretAppKey, text);
}

/**
 * Whether `signature` signs `params` with one of `secretAppKeys` in one of the four forms. Every
 * candidate is computed and compared in constant time (no early exit that would tell which form
 * or key came close).
 */
export function verifySpiSignature(
  params: Readonly<Record<string, string>>,
  signature: string,
  secretAppKeys: readonly string[],
): boolean {
  let ok = false;
  for (const form of SPI_SIGNATURE_FORMS) {
    const text = spiStringToSign(params, form);
    if (text === undefined) continue;
    for (const key of secretAppKeys) ok = safeEqual(spiHmac(key, text), signature) || ok;
  }
  return ok;
}
