import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createSpiCalls } from '../appcenter/spi-calls';
import type { AppCenterSpiOptions } from '../appcenter/spi-options';

/**
 * AppCenter's SPI endpoint (lifecycle callbacks) as Express middleware:
 * `app.use('/spi', appCenterSpi({ secretAppKey, handlers }))`. Answers GET on the mount path with
 * the documented JSON (HTTP 200 once the call is verified); anything else under it is passed on.
 * Options are validated here, once; a bad one throws an `SsoGuardError` with code `invalid_option`.
 */
export function appCenterSpi(options: AppCenterSpiOptions): RequestHandler {
  const spiCall = createSpiCalls(options);
  return function appCenterSpiRouter(req: Request, res: Response, next: NextFunction): void {
    if (req.path !== '/') return next();
    if (req.method !== 'GET') {
      res.status(405).set('allow', 'GET').json({ success: false, message: 'SPI calls are GET' });
      return;
    }
    const url = req.originalUrl ?? req.url;
    const q = url.indexOf('?');
    const header = req.headers.app_signature;
    spiCall({
      query: q === -1 ? '' : url.slice(q + 1),
      headerSignature: typeof header === 'string' ? header : undefined,
    }).then(({ status, body }) => {
      res.status(status).set('cache-control', 'no-store').json(body);
    }, next);
  };
}
