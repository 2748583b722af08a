import { LRUCache } from 'lru-cache';

/**
 * Session ids that were logged out, each until its session would have expired anyway, so a
 * replayed cookie (or one refreshed from it) is refused. Bounded: under extreme churn the oldest
 * revocations fall out first; a shared store (Redis) keeps them exactly.
 */
export class Revocations {
  private readonly lru: LRUCache<string, number>;

  constructor(max: number) {
    this.lru = new LRUCache({ max });
  }

  /** Revokes a session id until `until` (ms). */
  add(sessionId: string, until: number): void {
    this.lru.set(sessionId, until);
  }

  /** Whether a session id is revoked at `now` (ms). */
  has(sessionId: string, now: number): boolean {
    const until = this.lru.get(sessionId);
    return until !== undefined && until > now;
  }
}
