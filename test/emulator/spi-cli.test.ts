import { runCli } from '../../lib/emulator/cli';
import { parseSpiCli } from '../../lib/emulator/spi-cli';
import { listenSpiApp } from '../helpers/spi-app';
import { cliIo } from '../helpers/cli-io';

const io = cliIo;

describe('parseSpiCli', () => {
  it('maps <url> <action> name=value and flags; the key from APPCENTER_SECRET_APP_KEY unless given', () => {
    expect(
      parseSpiCli(
        ['http://x/spi', 'RenewAppInstance', 'order_id=o=1', 'instance_id=i', '--retries', '0', '--form', 'encoded'],
        {
          APPCENTER_SECRET_APP_KEY: 'env-key',
        },
      ),
    ).toEqual({
      help: false,
      url: 'http://x/spi',
      action: 'RenewAppInstance',
      params: { order_id: 'o=1', instance_id: 'i' },
      options: { secretAppKey: 'env-key', form: 'encoded', retries: 0, retryDelayMs: undefined, timeoutMs: undefined },
    });
  });

  it.each([
    [[], {}],
    [['http://x/spi'], { APPCENTER_SECRET_APP_KEY: 'k' }],
    [['http://x/spi', 'DropDatabase'], { APPCENTER_SECRET_APP_KEY: 'k' }],
    [['http://x/spi', 'TestConnection'], {}],
    [['http://x/spi', 'TestConnection', 'novalue'], { APPCENTER_SECRET_APP_KEY: 'k' }],
    [['http://x/spi', 'TestConnection', '--form', 'post'], { APPCENTER_SECRET_APP_KEY: 'k' }],
    [['http://x/spi', 'TestConnection', '--retries', '-1'], { APPCENTER_SECRET_APP_KEY: 'k' }],
  ])('refuses %j', (argv, env) => {
    expect(() => parseSpiCli(argv, env)).toThrow();
  });
});

describe('runCli spi', () => {
  it('sends the call, prints the attempts as JSON and exits 0; a usage error exits 2 without the key', async () => {
    const app = await listenSpiApp('cli-key', {});
    try {
      const ok = io();
      expect(await runCli(['spi', app.url, 'TestConnection', '--secret-app-key', 'cli-key'], {}, ok.io)).toEqual({
        exitCode: 0,
      });
      expect(JSON.parse(ok.out.join(''))).toEqual({
        success: true,
        body: { success: true },
        attempts: [{ status: 200, body: { success: true } }],
      });
      const bad = io();
      expect(await runCli(['spi', app.url, 'Nope', '--secret-app-key', 'cli-key'], {}, bad.io)).toEqual({
        exitCode: 2,
      });
      expect(bad.err.join('')).toContain('<action> must be one of');
      expect(bad.err.join('')).not.toContain('cli-key');
    } finally {
      await app.close();
    }
  });
});
