import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = fs.existsSync(CHROMIUM);
/** CI sets REQUIRE_BROWSER=1: a missing Chromium then fails the suite instead of skipping it. */
const browserRequired = process.env.REQUIRE_BROWSER === '1';

/**
 * `describe` for a suite that needs Chromium: `describe.skip` with a printed reason when it is
 * missing, unless REQUIRE_BROWSER=1 (then the suite runs and {@link launchChromium} fails it).
 */
export function describeWithBrowser(what: string): jest.Describe {
  if (hasBrowser || browserRequired) return describe;
  console.warn(
    `Skipping ${what}: ${CHROMIUM} not found (apt-get install chromium). Set REQUIRE_BROWSER=1 to make this a failure.`,
  );
  return describe.skip;
}

/** Chromium, headless, without the background traffic and sandbox a test machine cannot use. */
export async function launchChromium(): Promise<Browser> {
  if (!hasBrowser)
    throw new Error(`REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: install it (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
