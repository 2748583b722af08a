/**
 * The largest clock offset learned from the cloud API's `Date` header, in ms (15 minutes). A
 * `Date` farther off is more likely a broken proxy (or a forged answer) than a clock, so it is
 * not trusted.
 */
export const MAX_CLOCK_SKEW_OFFSET_MS = 15 * 60_000;

/** An IMF-fixdate (RFC 9110 §5.6.7), the only `Date` form servers send: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
/** The `Date` header has whole seconds, so an offset this close to the one used cannot be the cause. */
const RESOLUTION_MS = 2000;

/**
 * How far the cloud API host's clock is from ours, learned when the API refuses a `time_stamp`
 * (ret_code 1300, more than 60 s off) from the `Date` header of that answer. One answer only
 * re-signs the call it refused; the offset is kept, and shared by every {@link CloudClient} of an
 * `auth()` instance, once a second 1300 answer agrees with it (within the header's resolution),
 * so one answer cannot move the clock for everyone. It is re-learned the same way.
 */
export class CloudClockSkew {
  private offset = 0;
  /** An offset seen once, waiting for a second answer to agree. */
  private candidate: number | undefined;

  /** Milliseconds to add to the local clock to get the API host's time (0 until learned). */
  get offsetMs(): number {
    return this.offset;
  }

  /**
   * Reads a 1300 answer's `Date` header, read at local time `localNow`, for a request signed with
   * offset `usedOffset` (default: the current one). Returns the offset to re-sign that request
   * with (retried once), or `undefined` when the header is missing, malformed, more than
   * {@link MAX_CLOCK_SKEW_OFFSET_MS} away, or says `usedOffset` was already right. The shared
   * offset becomes this one when the previous answer said the same.
   */
  learn(dateHeader: unknown, localNow: number, usedOffset: number = this.offset): number | undefined {
    if (typeof dateHeader !== 'string' || !IMF_FIXDATE.test(dateHeader)) return undefined;
    const serverNow = Date.parse(dateHeader);
    if (!Number.isFinite(serverNow)) return undefined;
    const offset = serverNow - localNow;
    // Compared with the offset the refused request used: another call may have learned it meanwhile.
    if (Math.abs(offset) > MAX_CLOCK_SKEW_OFFSET_MS || Math.abs(offset - usedOffset) < RESOLUTION_MS) return undefined;
    if (this.candidate !== undefined && Math.abs(offset - this.candidate) < RESOLUTION_MS) {
      this.offset = offset;
      this.candidate = undefined;
    } else {
      this.candidate = offset;
    }
    return offset;
  }
}
