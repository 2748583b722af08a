import { createRequire } from 'node:module';
import path from 'node:path';
import type * as OtelApi from '@opentelemetry/api';

/** The parts of `@opentelemetry/api` the package uses. */
export type Api = typeof OtelApi;

/**
 * `@opentelemetry/api` when the app has it installed, else `undefined` (then nothing is recorded).
 * It is an optional peer dependency, so it is required here, at construction, and never imported
 * at the top of a module: a missing package must not break `require('express-sso-guard')`.
 * ESM builds have no `require`; they resolve from the working directory (the app's root), and the
 * API keeps its registrations on `globalThis`, so any copy of it sees the app's SDK.
 */
export function loadApi(): Api | undefined {
  try {
    // CommonJS (and jest) have `require` and `__filename`; an ES module build has neither (its
    // bundler's `require` stand-in only throws), so it resolves from the working directory.
    const load =
      typeof __filename === 'string' && typeof require === 'function'
        ? require
        : createRequire(path.join(process.cwd(), 'index.js'));
    const api = load('@opentelemetry/api') as Api;
    return typeof api?.metrics?.getMeter === 'function' && typeof api.trace?.getTracer === 'function' ? api : undefined;
  } catch {
    return undefined;
  }
}
