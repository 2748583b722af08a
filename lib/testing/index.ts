/**
 * `express-sso-guard/testing`: an SSO emulator for local development and tests.
 * Re-exports only.
 */
export * from '../emulator/emulator';
export * from '../emulator/cloud-api';
export { sessionCookie } from './session-cookie';
export type { SessionCookieOptions } from './session-cookie';
