import type { SsoContext } from './context';
import type { SsoUser } from './sso-client';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** The signed-in user (`req.user`), the check_token `user`. Merges with other packages' `User`. */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends SsoUser {}
    interface Request {
      /** Set by express-sso-guard's `auth()` on every request it sees. */
      sso: SsoContext;
      /** The signed-in user, as set by `auth()` (the Express convention). */
      user?: User;
    }
  }
}

export {};
