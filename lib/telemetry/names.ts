/**
 * Instrument, attribute and span names: a public contract (README "Observability"); a rename is a
 * breaking change.
 */
export const METER_NAME = 'express-sso-guard';

export const INSTRUMENTS = {
  ssoDuration: 'sso_guard.sso.duration',
  checkTokenCache: 'sso_guard.check_token.cache',
  refresh: 'sso_guard.refresh',
  sessionStarted: 'sso_guard.session.started',
  sessionEnded: 'sso_guard.session.ended',
  storeFallback: 'sso_guard.store.fallback',
  cloudDuration: 'sso_guard.cloud.duration',
} as const;

export const ATTRIBUTES = {
  ssoEndpoint: 'sso.endpoint',
  ssoOutcome: 'sso.outcome',
  result: 'result',
  outcome: 'outcome',
  reason: 'reason',
  entry: 'entry',
  operation: 'operation',
  cloudAction: 'cloud.action',
  cloudOutcome: 'cloud.outcome',
  serverAddress: 'server.address',
  httpStatus: 'http.response.status_code',
  errorType: 'error.type',
} as const;

/** Histogram buckets in seconds: SSO and cloud calls take milliseconds to the timeout (5 s default). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
