import { SsoGuardError } from '../../lib/errors';

/** The SsoGuardError a promise rejects with (fails when it resolves or rejects with anything else). */
export async function failure(p: Promise<unknown>): Promise<SsoGuardError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SsoGuardError);
    return err as SsoGuardError;
  }
  throw new Error('expected a rejection');
}
