import type { SsoStore } from './types';

/**
 * An in-process {@link SsoStore}: several `auth()` instances in one process can share it (tests,
 * or several apps in one server). It is not needed for a single instance, which always keeps its
 * own in-process cache. Holds at most `max` keys (oldest dropped first).
 */
export function memoryStore(options: { max?: number; clock?: () => number } = {}): SsoStore {
  const max = options.max ?? 100_000;
  const clock = options.clock ?? Date.now;
  const data = new Map<string, { value: string; until: number }>();
  const listeners = new Set<(message: string) => void>();
  const live = (key: string) => {
    const e = data.get(key);
    if (e === undefined) return undefined;
    if (e.until > clock()) return e;
    data.delete(key);
    return undefined;
  };
  return {
    async get(key) {
      return live(key)?.value;
    },
    async set(key, value, ttlMs, onlyIfAbsent = false) {
      if (onlyIfAbsent && live(key) !== undefined) return false;
      data.delete(key);
      data.set(key, { value, until: clock() + ttlMs });
      if (data.size > max) data.delete(data.keys().next().value!);
      return true;
    },
    async delete(key) {
      data.delete(key);
    },
    async deleteIfEquals(key, value) {
      if (live(key)?.value === value) data.delete(key);
    },
    async publish(message) {
      // Asynchronous like a real pub/sub: the publisher does not run listeners in its own call.
      for (const l of listeners) queueMicrotask(() => l(message));
    },
    async subscribe(listener) {
      listeners.add(listener);
    },
  };
}
