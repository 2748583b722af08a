import { coreWorld } from '../helpers/core';

describe('CredentialRenewal.recheck', () => {
  it('renews the session when the forced recheck rejects the token, and returns the new cookie', async () => {
    const w = coreWorld();
    w.sso.check = async (token) =>
      token === 'at-1'
        ? undefined
        : {
            user: { user_id: `u-${token}` },
            credentials: { accessKey: 'AK2', secretKey: 'SK2', token: 'e30.e30.sig' },
          };
    const s = w.session();
    const answer = await w.renewal.recheck(s.accessToken, s, []);
    expect(answer.result.credentials.accessKey).toBe('AK2');
    expect(w.sessionIn(answer.setCookie)?.accessToken).toBe('at-from-rt-1');
  });

  it('refuses with unauthenticated when the token is rejected and there is no refresh token', async () => {
    const w = coreWorld();
    w.sso.check = async () => undefined;
    await expect(w.renewal.recheck('at-1', undefined, [])).rejects.toMatchObject({ code: 'unauthenticated' });
  });
});
