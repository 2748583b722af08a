import './types';

export { auth, requiresAuth } from './middleware';
export { SsoContext } from './context';
export { SsoGuardError, CloudApiError, isSsoGuardError } from './errors';
export type { SsoGuardErrorCode, SsoGuardErrorOptions, CloudApiErrorOptions } from './errors';
export type { SsoGuardOptions, SessionOptions, CacheOptions, RoutesOptions, CloudOptions, RequiresAuthOptions } from './options';
export type { SsoUser, SsoCredentials } from './sso-client';
export { safeReturnTo } from './return-to';
export { CloudClient } from './cloud/client';
export type { CloudClientOptions, CloudCallOptions, CloudCredentials } from './cloud/client';
export { signRequest, percentEncode, canonicalQuery, formatTimestamp } from './cloud/signer';
export type { SignRequestInput, SignedRequest, SigningCredentials, SignatureVersion, CloudHttpMethod } from './cloud/signer';
