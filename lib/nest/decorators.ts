import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { CloudClient } from '../cloud/client';
import type { SsoContext } from '../express/context';
import type { SsoCredentials as Credentials, SsoUser as User } from '../sso/types';
import { toHttpException } from './guard';

/** Reads `req.sso` (set by `auth()`); a signed-out read becomes Nest's 401 exception. */
function fromContext<D, T>(read: (sso: SsoContext, data: D) => T): (data: D, context: ExecutionContext) => T {
  return (data, context) => {
    const req = context.switchToHttp().getRequest<Request>();
    try {
      return read(req.sso, data);
    } catch (err) {
      throw toHttpException(err);
    }
  };
}

/**
 * The signed-in user (`req.sso.user`), or one of its fields: `@SsoUser() user: SsoUser`,
 * `@SsoUser('user_id') id: string`. On a `@Public()` route that is signed out it answers 401.
 */
export const SsoUser: (field?: keyof User) => ParameterDecorator = createParamDecorator(
  fromContext((sso, field: keyof User | undefined) => (field === undefined ? sso.user : sso.user[field])),
);
/** The check_token user, as on `req.sso.user`. */
export type SsoUser = User;

/** The temporary cloud credentials (`req.sso.credentials`): `@SsoCredentials() creds: SsoCredentials`. */
export const SsoCredentials: () => ParameterDecorator = createParamDecorator(fromContext((sso) => sso.credentials));
/** The temporary cloud credentials, as on `req.sso.credentials`. */
export type SsoCredentials = Credentials;

/** The cloud API client of the signed-in user (`req.sso.cloud`): `@SsoCloud() cloud: CloudClient`. */
export const SsoCloud: () => ParameterDecorator = createParamDecorator(fromContext((sso) => sso.cloud));

/** The whole `req.sso`, signed in or not: `@Sso() sso: SsoContext`. */
export const Sso: () => ParameterDecorator = createParamDecorator(fromContext((sso) => sso));

export type { CloudClient, SsoContext };
