import createDebug from 'debug';

/**
 * Where the package writes its own lines: any object with `debug`, `info`, `warn` and `error`
 * taking one string (pino, winston, bunyan and `console` all fit).
 */
export interface SsoGuardLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The default: the `debug` namespace `express-sso-guard:events` (`DEBUG=express-sso-guard*`). */
export function debugLogger(): SsoGuardLogger {
  const debug = createDebug('express-sso-guard:events');
  const line = (level: string) => (message: string) => debug('%s %s', level, message);
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/**
 * The logger the package calls: a logger that throws is never allowed to fail a request, so each
 * call is guarded (and the failure dropped: there is nowhere left to report it).
 */
export function safeLogger(logger: SsoGuardLogger | undefined): SsoGuardLogger {
  const target = logger ?? debugLogger();
  const guard = (level: (typeof LOG_LEVELS)[number]) => (message: string) => {
    try {
      target[level](`express-sso-guard: ${message}`);
    } catch {
      // A broken logger must not break the request it reports on.
    }
  };
  return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
}
