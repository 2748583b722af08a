import { SsoGuardError } from '../errors';

/**
 * The SSO-specific options (`tokenIssuer`, `authorizationParams`), validated at construction.
 * Kept apart from config.ts so the option table there can call them as they are.
 */

/** Every documented `token_issuer` (`iam_jwt`: `token_type` JWT, no refresh token). */
export const TOKEN_ISSUERS = ['sso', 'iam', 'iam_jwt', 'app', 'app_dev'] as const;
export type TokenIssuer = (typeof TOKEN_ISSUERS)[number];

/** Authorize parameters the middleware sets itself; `authorizationParams` cannot override them. */
export const PROTECTED_AUTHORIZATION_PARAMS = ['client_id', 'response_type', 'redirect_uri', 'state'] as const;

function invalid(message: string): SsoGuardError {
  return new SsoGuardError('invalid_option', message);
}

/** `tokenIssuer`: one of {@link TOKEN_ISSUERS}, or `undefined` (not sent). */
export function resolveTokenIssuer(value: unknown): TokenIssuer | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (TOKEN_ISSUERS as readonly string[]).includes(value)) return value as TokenIssuer;
  const received = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
  throw invalid(`"tokenIssuer" must be one of ${TOKEN_ISSUERS.map((i) => `"${i}"`).join(', ')}; received ${received}`);
}

/**
 * `authorizationParams`: extra query parameters of the authorize URL, names to string values.
 * Values are never echoed in errors (one might be sensitive); names are.
 */
export function resolveAuthorizationParams(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Object.getPrototypeOf(value) !== Object.prototype
  ) {
    throw invalid(
      `"authorizationParams" must be an object of parameter names to string values; received ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    );
  }
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const shown = JSON.stringify(name.slice(0, 40));
    if (name === '') throw invalid('"authorizationParams" cannot have an empty parameter name');
    if ((PROTECTED_AUTHORIZATION_PARAMS as readonly string[]).includes(name.toLowerCase())) {
      throw invalid(
        `"authorizationParams" cannot set ${shown}: ${PROTECTED_AUTHORIZATION_PARAMS.join(', ')} are set by the middleware`,
      );
    }
    if (typeof v !== 'string')
      throw invalid(`"authorizationParams[${shown}]" must be a string; received ${v === null ? 'null' : typeof v}`);
    out[name] = v;
  }
  return Object.freeze(out);
}
