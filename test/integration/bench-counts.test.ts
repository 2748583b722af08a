import { createCore } from '../../lib/instance';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setImmediate as tick } from 'node:timers/promises';
import { tokenHash } from '../../lib/util/crypto';
import { fakeClock } from '../helpers/clock';
import { FakeSso } from '../helpers/fake-sso';
import { testOptions } from '../helpers/options';

// The counts of bench/checks.mjs that are not already in express/middleware.test.ts (1,000 concurrent
// requests -> one check_token; 200 concurrent expired sessions -> one refresh, all 200): the
// check_token cache stays bounded in memory, not only in entries, under a million distinct tokens.

/** `gc()` without `node --expose-gc`: the flag can be set at run time; a new context then sees it. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const sts = (exp: number) => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;

describe('check_token cache under a million distinct tokens (bench count)', () => {
  it('keeps the heap after GC within 1.5x of the heap at 10,000 tokens (cache.max 10,000)', async () => {
    const gc = exposeGc();
    const clock = fakeClock();
    const sso = new FakeSso();
    const stsToken = sts(Math.floor(clock() / 1000) + 86_400);
    // Realistic entries: a user and temporary credentials of their own for every token.
    sso.check = async (token) => ({
      user: { user_id: `u-${token}`, user_name: `user ${token}`, email: `${token}@example.com` },
      credentials: { accessKey: `TMP${token}`, secretKey: `sk-${token}`, token: stsToken },
    });
    const cache = createCore(testOptions({ cache: { max: 10_000 } }), { sso: sso.asClient(), clock }).cache;
    const far = clock() + 86_400_000;
    const drive = async (from: number, to: number) => {
      for (let i = from; i < to; i += 1000) {
        const batch: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(i + 1000, to); j++)
          batch.push(cache.lookup(tokenHash(`tok-${j}`), `tok-${j}`, far));
        await Promise.all(batch);
        await tick();
      }
    };
    const heapAfterGc = async () => {
      for (let i = 0; i < 3; i++) {
        await tick();
        gc();
      }
      return process.memoryUsage().heapUsed;
    };

    await drive(0, 10_000);
    const at10k = await heapAfterGc();
    await drive(10_000, 1_000_000);
    const at1m = await heapAfterGc();

    expect(sso.checks).toBe(1_000_000);
    expect(cache.size).toBe(10_000);
    // Printed for the record; the assertion is the ratio.
    console.log(
      `heap after GC: ${(at10k / 2 ** 20).toFixed(1)} MB at 10,000 tokens, ${(at1m / 2 ** 20).toFixed(1)} MB at 1,000,000 (${(at1m / at10k).toFixed(2)}x)`,
    );
    expect(at1m / at10k).toBeLessThanOrEqual(1.5);
  }, 180_000);
});
