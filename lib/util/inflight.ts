/**
 * One promise per key while it runs, shared by every concurrent caller and cleared in `finally`
 * (the in-flight pattern of openid-client): N requests for one token make one SSO call.
 */
export class Inflight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** Whether a call for `key` is running (a new caller would join it). */
  has(key: string): boolean {
    return this.running.has(key);
  }

  /** The running promise for `key`, or a new one from `start()`. */
  run(key: string, start: () => Promise<T>): Promise<T> {
    let pending = this.running.get(key);
    if (pending === undefined) {
      pending = start().finally(() => this.running.delete(key));
      this.running.set(key, pending);
    }
    return pending;
  }
}
