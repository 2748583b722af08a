import { parseArgs } from 'node:util';
import { SPI_SIGNATURE_FORMS, type SpiSignatureForm } from '../appcenter/spi-signature';
import { SPI_RETRIES, sendSpiCall, type SpiCallAction, type SpiCallOptions } from './spi-client';

/** Usage text of `express-sso-guard-emulator spi`. */
export const SPI_USAGE = `Usage: express-sso-guard-emulator spi <url> <action> [name=value ...] [options]

Sends one AppCenter SPI call to the app's SPI URL as the platform does: signed with the
app's secret_app_key, time_stamp now, retried while the answer is not HTTP 200 JSON
{"success": true} (Create/Renew/Upgrade/Expire/Delete 3 times, TestConnection twice).
Prints each attempt and the final answer as JSON; exits 0 on success, 1 otherwise.

Actions: ${Object.keys(SPI_RETRIES).join(', ')}

Options:
  --secret-app-key <key>   the app's secret_app_key (default: $APPCENTER_SECRET_APP_KEY)
  --form <form>            string to sign: ${SPI_SIGNATURE_FORMS.join(', ')} (default: plain)
  --retries <n>            retries after the first call (default: the platform's)
  --retry-delay <ms>       wait between attempts (default: 1000)
  --timeout <ms>           longest wait for one answer (default: 15000)
  -h, --help               show this help
`;

/** Where the command writes. */
export interface SpiCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

function count(name: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > max)
    throw new Error(`--${name} must be an integer from 0 to ${max}; received ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Parses `spi` arguments. Throws on a usage error. */
export function parseSpiCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
):
  | { help: true }
  | { help: false; url: string; action: SpiCallAction; params: Record<string, string>; options: SpiCallOptions } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      'secret-app-key': { type: 'string' },
      form: { type: 'string' },
      retries: { type: 'string' },
      'retry-delay': { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const [url, action, ...pairs] = positionals;
  if (url === undefined || action === undefined) throw new Error('spi needs <url> and <action>');
  if (!(action in SPI_RETRIES))
    throw new Error(
      `<action> must be one of ${Object.keys(SPI_RETRIES).join(', ')}; received ${JSON.stringify(action)}`,
    );
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`parameters are name=value; received ${JSON.stringify(pair)}`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const secretAppKey = values['secret-app-key'] ?? (env.APPCENTER_SECRET_APP_KEY || undefined);
  if (secretAppKey === undefined) throw new Error('--secret-app-key (or APPCENTER_SECRET_APP_KEY) is required');
  const form = values.form ?? 'plain';
  if (!SPI_SIGNATURE_FORMS.includes(form as SpiSignatureForm))
    throw new Error(`--form must be one of ${SPI_SIGNATURE_FORMS.join(', ')}; received ${JSON.stringify(form)}`);
  return {
    help: false,
    url,
    action: action as SpiCallAction,
    params,
    options: {
      secretAppKey,
      form: form as SpiSignatureForm,
      retries: count('retries', values.retries, 10),
      retryDelayMs: count('retry-delay', values['retry-delay'], 60_000),
      timeoutMs: count('timeout', values.timeout, 60_000),
    },
  };
}

/** Runs `express-sso-guard-emulator spi …`; resolves the exit code. The key is never printed. */
export async function runSpiCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: SpiCliIo,
): Promise<number> {
  let parsed: ReturnType<typeof parseSpiCli>;
  try {
    parsed = parseSpiCli(argv, env);
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n\n${SPI_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.stdout.write(SPI_USAGE);
    return 0;
  }
  try {
    const result = await sendSpiCall(parsed.url, parsed.action, parsed.params, parsed.options);
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.success ? 0 : 1;
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
}
