/**
 * The largest clock offset learned from the cloud API's `Date` header, in ms (one day). A `Date`
 * farther off is more likely a broken proxy than a clock, so it is not trusted.
 */
export const MAX_CLOCK_SKEW_OFFSET_MS = 86_400_000;

/** An IMF-fixdate (RFC 9110 §5.6.7), the only `Date` form servers send: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
/** The `Date` header has whole seconds, so an offset this close to the one used cannot be the cause. */
const RESOLUTION_MS = 2000;

/**
 * How far the cloud API host's clock is from ours, learned when the API refuses a `time_stamp`
 * (ret_code 1300, more than 60 s off) from the `Date` header of that answer. One instance is
 * shared by every {@link CloudClient} of an `auth()` instance, so what one request learned
 * serves the next ones; it is re-learned on the next 1300.
 */
export class CloudClockSkew {
  private offset = 0;

  /** Milliseconds to add to the local clock to get the API host's time (0 until learned). */
  get offsetMs(): number {
    return this.offset;
  }

  /**
   * Learns the offset from a 1300 answer's `Date` header, read at local time `localNow`, for a
   * request signed with offset `usedOffset` (default: the current one). Returns `true` when the
   * request should be re-signed with the (now stored) offset and retried once, and `false`
   * (keeping the old offset) when the header is missing, malformed, more than
   * {@link MAX_CLOCK_SKEW_OFFSET_MS} away, or says `usedOffset` was already right.
   */
  learn(dateHeader: unknown, localNow: number, usedOffset: number = this.offset): boolean {
    if (typeof dateHeader !== 'string' || !IMF_FIXDATE.test(dateHeader)) return false;
    const serverNow = Date.parse(dateHeader);
    if (!Number.isFinite(serverNow)) return false;
    const offset = serverNow - localNow;
    // Compared with the offset the refused request used: another call may have learned it meanwhile.
    if (Math.abs(offset) > MAX_CLOCK_SKEW_OFFSET_MS || Math.abs(offset - usedOffset) < RESOLUTION_MS) return false;
    this.offset = offset;
    return true;
  }
}
