export { SsoAuthGuard, Public, SsoAuth, toHttpException } from './guard';
export type { SsoAuthOptions } from './guard';
export { SsoUser, SsoCredentials, SsoCloud, Sso } from './decorators';
export type { CloudClient, SsoContext } from './decorators';
