import { optionError, type Check } from '../option-rules';
import type { SsoStore, SsoStoreTuning } from './types';

const STORE_METHODS = ['get', 'set', 'delete', 'deleteIfEquals', 'publish', 'subscribe'] as const;

/** A shared store such as `redisStore({ client })`: an object with the store methods. */
export const storeObject: Check<SsoStore & SsoStoreTuning> = (v, at) => {
  const o = v as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || STORE_METHODS.some((m) => typeof o[m] !== 'function')) {
    throw optionError(
      at.name,
      `a store such as redisStore({ client }) (an object with ${STORE_METHODS.join(', ')})`,
      v,
    );
  }
  return v as SsoStore & SsoStoreTuning;
};
