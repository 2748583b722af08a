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
      if (!this.shared.stats.available) throw new SsoGuardError('upstream_unavailable', 'The session store is unavailable');
      return undefined;
    }
    this.local.set(id, { tokens, until: now + this.shared.localTtl * 1000 });
    return tokens;
  }

  /** Stores a session's tokens until `expiresAt` (ms), here and in the store. */
  async save(s: SessionData, now: number, expiresAt: number): Promise<void> {
    const { accessToken, refreshToken, tokenType, expiresAt: tokenExpiresAt, lifetime } = s;
    const tokens: StoredTokens = { accessToken, ...(refreshToken === undefined ? {} : { refreshToken }), tokenType, expiresAt: tokenExpiresAt, lifetime };
    this.local.set(s.id, { tokens, until: now + this.shared.localTtl * 1000 });
    await this.shared.put(`session:${s.id}`, tokens, expiresAt - now);
  }

  /** Deletes a session's tokens everywhere (logout). */
  async delete(id: string): Promise<void> {
    this.local.delete(id);
    await this.shared.delete(`session:${id}`);
  }
}
