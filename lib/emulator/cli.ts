import { parseArgs } from 'node:util';
import { startEmulator } from './emulator';
import { DEMO_CLIENT } from './options';
import { runSpiCli } from './spi-cli';
import type { Emulator, EmulatorOptions } from './types';

/** Usage text of `express-sso-guard-emulator`. */
export const USAGE = `Usage: express-sso-guard-emulator [options]
       express-sso-guard-emulator spi <url> <action> [name=value ...] --secret-app-key <key>

Starts an SSO emulator (the /sso/oauth2/, /sso/token/, /sso/check_token/ and
/sso/refresh_token/ API) for local development. Use the printed URL as SSO_BASE_URL.

Options:
  --port <n>               port to listen on (default: $PORT, else a free port)
  --host <addr>            interface to listen on (default: 127.0.0.1)
  --client-id <id>         client_id (default: $SSO_CLIENT_ID, else example-client)
  --client-secret <s>      client_secret (default: $SSO_CLIENT_SECRET, else example-secret)
  --access-token-ttl <s>   access token lifetime in seconds (default: 3600)
  --auto-approve           skip the sign-in page and approve as the first user
  --error-style <style>    "status" (HTTP 400/401, default) or "ret_code" (HTTP 200 + ret_code)
  --no-refresh-tokens      do not issue refresh tokens
  --no-rotate              return the same refresh token on refresh
  --cloud-api-clock-offset <s>
                           the cloud API host's clock offset in seconds, e.g. =-90
                           (time_stamp judged by it, 1300 beyond 60 s; Date header)
  --cloud-api-expired-token <status|1200|2000>
                           answer an expired STS token with HTTP 401 (status, default)
                           or HTTP 200 and that ret_code
  --ret-code-on-success    add ret_code 0 to successful answers (default: none)
  --ret-code-type <type>   write ret_code as a "number" (default) or a "string"
  --refresh-with-credentials
                           refresh answers also carry access_key, secret_key,
                           token and user (the account guide's variant)
  --console-auth-url <url> the app's authUrl, for the console page (/console)
  --console-app-url <url>  the app's SaaS URL, for the console page (/console)
  -h, --help               show this help
`;

/** Where the CLI writes. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Outcome of {@link runCli}: a running emulator, or an exit code (help, usage error). */
export type CliResult = { emulator: Emulator } | { exitCode: number };

function integer(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max)
    throw new Error(`--${name} must be an integer from ${min} to ${max}; received ${JSON.stringify(raw)}`);
  return value;
}

/** Parses the command line (defaults from `env`) into emulator options. Throws on a usage error. */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { help: true } | { help: false; options: EmulatorOptions } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'access-token-ttl': { type: 'string' },
      'auto-approve': { type: 'boolean' },
      'error-style': { type: 'string' },
      'no-refresh-tokens': { type: 'boolean' },
      'no-rotate': { type: 'boolean' },
      'cloud-api-clock-offset': { type: 'string' },
      'cloud-api-expired-token': { type: 'string' },
      'ret-code-on-success': { type: 'boolean' },
      'ret-code-type': { type: 'string' },
      'refresh-with-credentials': { type: 'boolean' },
      'console-auth-url': { type: 'string' },
      'console-app-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const options: EmulatorOptions = {};
  const port = values.port ?? (env.PORT || undefined);
  if (port !== undefined)
    options.port = integer(values.port === undefined ? 'port (from $PORT)' : 'port', port, 0, 65535);
  if (values.host !== undefined) options.host = values.host;
  const clientId = values['client-id'] ?? (env.SSO_CLIENT_ID || undefined);
  const clientSecret = values['client-secret'] ?? (env.SSO_CLIENT_SECRET || undefined);
  if (clientId !== undefined) options.clientId = clientId;
  if (clientSecret !== undefined) options.clientSecret = clientSecret;
  const ttl = values['access-token-ttl'];
  if (ttl !== undefined) {
    const seconds = Number(ttl);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new Error(`--access-token-ttl must be a positive number of seconds; received ${JSON.stringify(ttl)}`);
    options.accessTokenTtl = seconds;
  }
  if (values['auto-approve']) options.autoApprove = true;
  const style = values['error-style'];
  if (style !== undefined) {
    if (style !== 'status' && style !== 'ret_code')
      throw new Error(`--error-style must be "status" or "ret_code"; received ${JSON.stringify(style)}`);
    options.errorStyle = style;
  }
  if (values['no-refresh-tokens']) options.refreshTokens = false;
  if (values['no-rotate']) options.rotateRefreshTokens = false;
  const cloudApi = cloudApiFlags(values['cloud-api-clock-offset'], values['cloud-api-expired-token']);
  if (cloudApi !== undefined) options.cloudApi = cloudApi;
  if (values['ret-code-on-success']) options.retCodeOnSuccess = true;
  const retCodeType = values['ret-code-type'];
  if (retCodeType !== undefined) {
    if (retCodeType !== 'number' && retCodeType !== 'string')
      throw new Error(`--ret-code-type must be "number" or "string"; received ${JSON.stringify(retCodeType)}`);
    options.retCodeType = retCodeType;
  }
  if (values['refresh-with-credentials']) options.refreshWithCredentials = true;
  const authUrl = values['console-auth-url'];
  const appUrl = values['console-app-url'];
  if (authUrl !== undefined || appUrl !== undefined)
    options.console = { ...(authUrl === undefined ? {} : { authUrl }), ...(appUrl === undefined ? {} : { appUrl }) };
  return { help: false, options };
}

/** The cloud API variant flags as `cloudApi` options, or `undefined` when none is given. */
function cloudApiFlags(
  offset: string | undefined,
  expired: string | undefined,
): Exclude<EmulatorOptions['cloudApi'], boolean> {
  if (offset === undefined && expired === undefined) return undefined;
  const cloudApi: Exclude<EmulatorOptions['cloudApi'], boolean | undefined> = {};
  if (offset !== undefined) {
    const seconds = Number(offset);
    if (offset.trim() === '' || !Number.isFinite(seconds) || Math.abs(seconds) > 86_400) {
      throw new Error(
        `--cloud-api-clock-offset must be a number of seconds from -86400 to 86400; received ${JSON.stringify(offset)}`,
      );
    }
    cloudApi.clockOffset = seconds * 1000;
  }
  if (expired !== undefined) {
    if (expired !== 'status' && expired !== '1200' && expired !== '2000')
      throw new Error(
        `--cloud-api-expired-token must be "status", "1200" or "2000"; received ${JSON.stringify(expired)}`,
      );
    cloudApi.expiredToken = expired === 'status' ? expired : expired === '1200' ? 1200 : 2000;
  }
  return cloudApi;
}

/**
 * Runs the CLI: parses, starts the emulator and prints where it listens. The secret is printed
 * only when it is the built-in demo one. Signal handling is the caller's (see bin.ts).
 */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
): Promise<CliResult> {
  if (argv[0] === 'spi') return { exitCode: await runSpiCli(argv.slice(1), env, io) };
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv, env);
  } catch (err) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return { exitCode: 2 };
  }
  if (parsed.help) {
    io.stdout.write(USAGE);
    return { exitCode: 0 };
  }
  let emulator: Emulator;
  try {
    emulator = await startEmulator({ ...parsed.options, logger: (line) => io.stdout.write(`${line}\n`) });
  } catch (err) {
    io.stderr.write(`Cannot start the SSO emulator: ${err instanceof Error ? err.message : String(err)}\n`);
    return { exitCode: 1 };
  }
  const clientId = parsed.options.clientId ?? DEMO_CLIENT.clientId;
  const secret = parsed.options.clientSecret ?? DEMO_CLIENT.clientSecret;
  const shownSecret = secret === DEMO_CLIENT.clientSecret ? `, client_secret=${secret}` : '';
  io.stdout.write(`SSO emulator listening on ${emulator.url} (client_id=${clientId}${shownSecret})\n`);
  io.stdout.write(`Users: alice (usr-alice), bob (usr-bob). Set SSO_BASE_URL=${emulator.url}. Stop with Ctrl+C.\n`);
  io.stdout.write(`Console (launch the app as a user): ${emulator.url}/console\n`);
  return { emulator };
}
