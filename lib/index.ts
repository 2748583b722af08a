import './types';

export { auth, requiresAuth } from './middleware';
export type { SsoGuardMiddleware } from './middleware';
export { redisStore } from './store/redis';
export type { RedisStoreOptions } from './store/redis';
export { memoryStore } from './store/memory';
export type { SsoStore, SsoStoreTuning } from './store/types';
export type { StoreStats } from './shared';
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
