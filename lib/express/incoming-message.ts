import { IncomingMessage } from 'node:http';

/**
 * A request class for `http.createServer({ IncomingMessage: SsoIncomingMessage }, app)` (or
 * `https.createServer`): every request is born with the two properties `auth()` sets, `sso` and
 * `user` (both `undefined` until then), as Fastify's request decorators do. `auth()` then writes
 * fields the request already has instead of adding two to it, which on Express (whose requests
 * each get a hidden class of their own) saves a hidden-class and property-table copy per
 * property: ~5 % of an authenticated request's machine instructions, GC included (see
 * bench/README.md). Nothing else changes: both stay ordinary own properties (`Object.keys(req)`,
 * `delete req.user` and passport behave as without it), except that they exist, `undefined`, on
 * requests `auth()` did not handle. Express replaces each request's prototype with its own, so
 * inside an Express app `req instanceof SsoIncomingMessage` is false: the fields are what stays.
 * Optional: `app.listen()` works without it.
 */
export class SsoIncomingMessage extends IncomingMessage {
  /** The `auth()` context (`req.sso`); `undefined` until `auth()` ran. */
  declare sso: unknown;
  /** The signed-in user (`req.user`); `undefined` until `auth()` (or another middleware) set it. */
  declare user: unknown;

  constructor(socket: ConstructorParameters<typeof IncomingMessage>[0]) {
    super(socket);
    this.sso = undefined;
    this.user = undefined;
  }
}
