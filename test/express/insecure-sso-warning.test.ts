import { auth } from '../../lib/express/middleware';
import { testOptions } from '../helpers/options';

// An http:// SSO outside the loopback host is warned about once, at construction.

describe('http:// ssoBaseUrl warning', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('warns once at construction for a remote http:// SSO, naming the option and not the secret', async () => {
    const guard = auth(testOptions({ ssoBaseUrl: 'http://sso.example.test:8080' }));
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, opts] = warn.mock.calls[0] as [string, { code: string }];
    expect(message).toContain('"ssoBaseUrl"');
    expect(message).toContain('sso.example.test:8080');
    expect(message).not.toContain(testOptions().clientSecret!);
    expect(opts.code).toBe('SSO_GUARD_INSECURE_SSO_URL');
    // Requests do not warn again.
    const req = { url: '/x', method: 'GET', headers: {} } as never;
    const res = {
      setHeader: () => undefined,
      getHeader: () => undefined,
      end: () => undefined,
      headersSent: false,
    } as never;
    guard(req, res, () => undefined);
    guard(req, res, () => undefined);
    await new Promise((r) => setImmediate(r));
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it.each(['http://localhost:4000', 'http://127.0.0.1:9', 'http://[::1]:4000', 'https://sso.example.test'])(
    'does not warn for %s',
    (ssoBaseUrl) => {
      auth(testOptions({ ssoBaseUrl }));
      expect(warn).not.toHaveBeenCalled();
    },
  );
});
