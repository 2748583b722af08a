export { auth, requiresAuth } from './express/middleware';
export type { SsoGuardMiddleware } from './express/middleware';
export { SsoIncomingMessage } from './express/incoming-message';
export { userRevoker } from './auth/user-revoker';
export type { UserRevoker, UserRevokerOptions } from './auth/user-revoker';
export { redisStore } from './store/redis';
export type { RedisStoreOptions } from './store/redis';
export { memoryStore } from './store/memory';
export type { SsoStore, SsoStoreTuning } from './store/types';
export type { StoreStats } from './store/shared-store';
export type { SsoContext, AuthenticatedSsoContext } from './express/context';
export { SsoGuardError, CloudApiError, isSsoGuardError } from './errors';
export type { SsoGuardErrorCode, SsoGuardErrorOptions, CloudApiErrorOptions } from './errors';
export type {
  SsoGuardOptions,
  SessionOptions,
  CacheOptions,
  RoutesOptions,
  CloudOptions,
  RequiresAuthOptions,
  Seconds,
  Milliseconds,
} from './options';
export type { SsoUser, SsoCredentials } from './sso/types';
export type {
  SsoGuardEvents,
  LoginEntry,
  LoginEvent,
  LogoutEvent,
  RefreshEvent,
  SessionEndEvent,
  SsoErrorEvent,
  SsoEndpoint,
  SsoOutcome,
  RefreshOutcome,
  SessionEndReason,
  CacheResult,
} from './telemetry/events';
export type { SsoGuardLogger } from './telemetry/logger';
export type { Language, LanguageSetting } from './i18n/language';
export type {
  PageKind,
  PageContexts,
  PageContextBase,
  ErrorPageContext,
  FormPageContext,
  SwitchAccountPageContext,
  PageAccount,
  RenderPage,
  RenderPageArgs,
} from './i18n/pages';
export { safeReturnTo } from './express/return-to';
export { CloudClient } from './cloud/client';
export type { CloudClientOptions, CloudCallOptions, CloudCredentials } from './cloud/client';
export { CloudClockSkew, MAX_CLOCK_SKEW_OFFSET_MS } from './cloud/clock-skew';
export { parseCloudInfo } from './cloud/cloud-info';
export type { CloudInfo } from './cloud/cloud-info';
export { signRequest, percentEncode, canonicalQuery, formatTimestamp } from './cloud/signer';
export type {
  SignRequestInput,
  SignedRequest,
  SigningCredentials,
  SignatureVersion,
  CloudHttpMethod,
} from './cloud/signer';
export { appCenterSpi } from './express/spi-router';
export type { AppCenterSpiOptions, SpiHandler, SpiHandlers } from './appcenter/spi-options';
export type {
  SpiAction,
  SpiHandledAction,
  SpiCommonParams,
  SpiParams,
  SpiParamsByAction,
  CreateAppInstanceParams,
  RenewAppInstanceParams,
  UpgradeAppInstanceParams,
  ExpireAppInstanceParams,
  DeleteAppInstanceParams,
  SpiResult,
  CreateAppInstanceResult,
  SpiResultByAction,
  SpiFailure,
  SpiAppInfo,
  SpiAccount,
  SpiAnswer,
} from './appcenter/spi-params';
export { signSpiParams, verifySpiSignature, spiStringToSign, SPI_SIGNATURE_FORMS } from './appcenter/spi-signature';
export type { SpiSignatureForm } from './appcenter/spi-signature';
