import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CloudApiError, SsoGuardError, isSsoGuardError } from '../lib/errors';
import { buildDualCopies } from './helpers/dual-build';

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

/**
 * The CJS and ESM builds are two copies of the package; an error thrown by one must be recognised
 * by the other's isSsoGuardError(). esbuild (what tsup runs) builds both formats of lib/index.ts
 * into a temporary directory under test-output/, and a child node process loads both.
 */
describe('isSsoGuardError across the CJS and ESM copies', () => {
  let copies: ReturnType<typeof buildDualCopies>;
  beforeAll(() => {
    copies = buildDualCopies('dual');
  });
  afterAll(() => copies.remove());

  it('recognises SsoGuardError and CloudApiError from the other copy, and nothing else', () => {
    const out = execFileSync(process.execPath, [join(__dirname, 'package/dual-copies.cjs'), copies.cjs, copies.esm], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
    });
    const expected = { ssoGuardError: true, cloudApiError: true, plainError: false, lookalike: false };
    expect(JSON.parse(out)).toEqual({ 'cjs->esm': expected, 'esm->cjs': expected });
  });
});
