// The SSO's answers as the package holds them. Types only, importing nothing: every layer may
// name them without reaching the SSO client (or anything it imports).

/** A token answer of the SSO (`/sso/token/` and `/sso/refresh_token/`). */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | undefined;
  /** seconds */
  expiresIn: number;
  tokenType: string;
  /**
   * The check_token answer for the new access token, when a refresh answer carried
   * `access_key`, `secret_key`, `token` and `user` (one documented variant of the SSO).
   */
  check?: CheckResult;
}

/** The user of a check_token answer: documented fields, open to more. */
export interface SsoUser {
  user_id: string;
  user_name?: string;
  email?: string;
  phone?: string;
  lang?: string;
  user_verify?: unknown;
  [key: string]: unknown;
}

/** Temporary cloud credentials of the signed-in identity (check_token's `access_key`, `secret_key`, `token`). */
export interface SsoCredentials {
  accessKey: string;
  secretKey: string;
  /** The STS token (a JWT, about one hour, whose `exp` bounds the credentials' life). */
  token: string;
}

/** A valid check_token answer. */
export interface CheckResult {
  user: SsoUser;
  credentials: SsoCredentials;
}
