#!/usr/bin/env node
/**
 * `express-sso-guard-emulator`: starts the SSO emulator from the command line. See `--help`.
 */
import { runCli } from './cli';

async function main(): Promise<void> {
  const result = await runCli(process.argv.slice(2), process.env, process);
  if ('exitCode' in result) {
    process.exitCode = result.exitCode;
    return;
  }
  const { emulator } = result;
  const stop = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.write(`Received ${signal}, stopping the SSO emulator.\n`);
    // A second signal while closing exits at once.
    process.once('SIGINT', () => process.exit(130));
    process.once('SIGTERM', () => process.exit(143));
    emulator.close().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        process.stderr.write(`Error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
