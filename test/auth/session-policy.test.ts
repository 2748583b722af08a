import { MAX_REFRESH_WINDOW_SEC, MAX_TOUCH_INTERVAL_SEC, SessionPolicy } from '../../lib/auth/session-policy';
import type { SessionData } from '../../lib/session/session-cookie';

const NOW = 1_800_000_000;
const s = (over: Partial<SessionData> = {}): SessionData => ({
  id: 'sid',
  accessToken: 'at',
  refreshToken: 'rt',
  tokenType: 'Bearer',
  expiresAt: NOW + 3600,
  lifetime: 3600,
  createdAt: NOW - 100,
  touchedAt: NOW - 100,
  ...over,
});

describe('SessionPolicy', () => {
  const policy = new SessionPolicy(7 * 86400, 86400);

  it('ends a session at its absolute or rolling end, not before', () => {
    expect(policy.lifetimeOver(s({ createdAt: NOW - 7 * 86400 + 1 }), NOW)).toBe(false);
    expect(policy.lifetimeOver(s({ createdAt: NOW - 7 * 86400 }), NOW)).toBe(true);
    expect(policy.lifetimeOver(s({ touchedAt: NOW - 86400 + 1 }), NOW)).toBe(false);
    expect(policy.lifetimeOver(s({ touchedAt: NOW - 86400 }), NOW)).toBe(true);
  });

  it('makes a refresh due a tenth of the token lifetime before expiry, at most a minute before', () => {
    expect(MAX_REFRESH_WINDOW_SEC).toBe(60);
    expect(policy.refreshDue(s({ expiresAt: NOW + 61 }), NOW)).toBe(false);
    expect(policy.refreshDue(s({ expiresAt: NOW + 60 }), NOW)).toBe(true);
    expect(policy.refreshDue(s({ lifetime: 300, expiresAt: NOW + 31 }), NOW)).toBe(false);
    expect(policy.refreshDue(s({ lifetime: 300, expiresAt: NOW + 30 }), NOW)).toBe(true);
  });

  it('touches an unchanged cookie after a tenth of the rolling lifetime, at most an hour', () => {
    expect(policy.touchInterval).toBe(MAX_TOUCH_INTERVAL_SEC);
    expect(new SessionPolicy(86400, 600).touchInterval).toBe(60);
    const unchanged = { renewed: false, stale: false };
    expect(policy.needsRewrite(s({ touchedAt: NOW - 3599 }), NOW, unchanged)).toBe(false);
    expect(policy.needsRewrite(s({ touchedAt: NOW - 3600 }), NOW, unchanged)).toBe(true);
  });

  it('rewrites a renewed or stale (older secret) session whatever its age', () => {
    const fresh = s({ touchedAt: NOW });
    expect(policy.needsRewrite(fresh, NOW, { renewed: true, stale: false })).toBe(true);
    expect(policy.needsRewrite(fresh, NOW, { renewed: false, stale: true })).toBe(true);
  });
});
