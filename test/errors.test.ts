import { CloudApiError, SsoGuardError, isSsoGuardError } from '../lib/errors';

describe('SsoGuardError', () => {
  it('carries a stable code, the status of the code, its name and cause', () => {
    const cause = new Error('inner');
    const err = new SsoGuardError('upstream_timeout', 'slow', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SsoGuardError');
    expect(err.code).toBe('upstream_timeout');
    expect(err.status).toBe(504);
    expect(err.statusCode).toBe(504);
    expect(err.cause).toBe(cause);
    expect(new SsoGuardError('unauthenticated', 'x').status).toBe(401);
    expect(new SsoGuardError('invalid_state', 'x').status).toBe(400);
    expect(new SsoGuardError('upstream_unavailable', 'x').status).toBe(503);
    expect(new SsoGuardError('upstream_error', 'x', { status: 500 }).status).toBe(500);
  });

  it('CloudApiError extends it with the API ret_code', () => {
    const err = new CloudApiError('DescribeInstances failed: ret_code 1400', { retCode: 1400, httpStatus: 200 });
    expect(err).toBeInstanceOf(SsoGuardError);
    expect(err.name).toBe('CloudApiError');
    expect(err).toMatchObject({ code: 'cloud_api_error', status: 502, retCode: 1400, httpStatus: 200 });
    expect(isSsoGuardError(err)).toBe(true);
    expect(isSsoGuardError(new Error('x'))).toBe(false);
  });
});
