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

describe('http:// cloud API warning (issue 20)', () => {
  const logger = () => ({ debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() });
  const cloudInfo = (api: string): string =>
    Buffer.from(JSON.stringify({ sso_server: 'https://sso.example.test', api_server: api })).toString('base64');

  it('warns once through the logger for an http api_server (cloud_info) or cloud.apiBaseUrl on another host', () => {
    for (const options of [
      { ssoBaseUrl: undefined, cloudInfo: cloudInfo('http://api.example.test:7777') },
      { cloud: { apiBaseUrl: 'http://api.example.test' } },
    ]) {
      const log = logger();
      auth(testOptions({ ...options, logger: log }));
      expect(log.warn).toHaveBeenCalledTimes(1);
      expect(log.warn.mock.calls[0]![0]).toMatch(/cloud API .*http:\/\/api\.example\.test.*in clear/);
    }
  });

  it.each(['https://api.example.test', 'http://127.0.0.1:9', 'http://localhost:4000'])(
    'does not warn for %s',
    (api) => {
      const log = logger();
      auth(testOptions({ cloud: { apiBaseUrl: api }, logger: log }));
      expect(log.warn).not.toHaveBeenCalled();
    },
  );
});
