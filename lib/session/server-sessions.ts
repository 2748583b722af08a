import { LRUCache } from 'lru-cache';
import { SsoGuardError } from '../errors';
import type { SessionData } from './session-cookie';
import type { Shared } from '../store/shared-store';

/** What a server-side session keeps in the store: the tokens; the cookie keeps id and times. */
export type StoredTokens = Pick<SessionData, 'accessToken' | 'refreshToken' | 'tokenType' | 'expiresAt' | 'lifetime'>;

/**
 * Server-side sessions (`session.serverSide`): the cookie carries only a random session id (and
 * its times), the tokens live in the shared store, encrypted, with the session's remaining
 * absolute lifetime as TTL. An in-process first level keeps a cached request free of store calls.
 * A refresh updates the store, so every tab and instance holding the id sees the new tokens.
 */
export class ServerSessions {
  private readonly local: LRUCache<string, { tokens: StoredTokens; until: number }>;

  constructor(
    private readonly shared: Shared,
    max: number,
  ) {
    this.local = new LRUCache({ max });
  }

  /** The tokens of a session from the first level, without a store call. */
  peek(id: string, now: number): StoredTokens | undefined {
    const hit = this.local.get(id);
    if (hit === undefined) return undefined;
    if (hit.until > now) return hit.tokens;
    this.local.delete(id);
    return undefined;
  }

  /**
   * The tokens of a session from the store. `undefined` when the store has none (logged out or
   * expired); an `upstream_unavailable` error when the store cannot be asked (the session is
   * kept, this request fails).
   */
  async load(id: string, now: number): Promise<StoredTokens | undefined> {
    const tokens = await this.shared.get<StoredTokens>(`session:${id}`);
    if (tokens === undefined) {
      if (!this.shared.stats.available)
        throw new SsoGuardError('upstream_unavailable', 'The session store is unavailable');
      return undefined;
    }
    this.local.set(id, { tokens, until: now + this.shared.localTtl * 1000 });
    return tokens;
  }

  /**
   * Stores a session's tokens until `expiresAt` (ms), in the store and here. A session is never
   * kept in this process only (it would work here, then end silently elsewhere or later): when the
   * store cannot be written, this rejects with `upstream_unavailable` (503). A new session is then
   * refused; refreshed tokens (`writeBehind`, already issued by the SSO) are also queued and
   * written once the store is back, and until then the session answers 503 here as everywhere.
   */
  async save(s: SessionData, now: number, expiresAt: number, writeBehind = false): Promise<void> {
    const { accessToken, refreshToken, tokenType, expiresAt: tokenExpiresAt, lifetime } = s;
    const tokens: StoredTokens = {
      accessToken,
      ...(refreshToken === undefined ? {} : { refreshToken }),
      tokenType,
      expiresAt: tokenExpiresAt,
      lifetime,
    };
    const key = `session:${s.id}` as const;
    const ttlMs = expiresAt - now;
    const written = writeBehind
      ? await this.shared.writeDurably([{ put: key, value: tokens, ttlMs }])
      : await this.shared.put(key, tokens, ttlMs);
    if (!written) {
      this.local.delete(s.id);
      throw new SsoGuardError('upstream_unavailable', 'The session store is unavailable');
    }
    this.local.set(s.id, { tokens, until: now + this.shared.localTtl * 1000 });
  }

  /** Deletes a session's tokens everywhere (logout); queued and retried while the store is unreachable. */
  async delete(id: string): Promise<void> {
    this.local.delete(id);
    await this.shared.writeDurably([{ delete: `session:${id}` }]);
  }

  /** Empties the first level (the store's events may have been missed). */
  clear(): void {
    this.local.clear();
  }
}
