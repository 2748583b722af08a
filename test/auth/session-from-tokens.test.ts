import { sessionFromTokens, type SessionWriter } from '../../lib/auth/session-from-tokens';
import type { SessionData } from '../../lib/session/session-cookie';
import { coreWorld } from '../helpers/core';

const tokens = { accessToken: 'at-new', refreshToken: 'rt-new', tokenType: 'Bearer', expiresIn: 600 };

/** A writer that records what it was asked to keep and count. */
function recorder(serialize: SessionWriter['cookies']['serialize'] = () => ['c=1']) {
  const kept: Array<[SessionData, boolean]> = [];
  const started: Array<string | undefined> = [];
  const writer: SessionWriter = {
    cookies: { serialize },
    keep: async (s, { writeBehind }) => void kept.push([s, writeBehind]),
    telemetry: { sessionStarted: (userId) => void started.push(userId) },
  };
  return { writer, kept, started };
}

describe('sessionFromTokens: a sign-in', () => {
  it('makes a new session starting now, its cookie, and on commit keeps it and counts the sign-in', async () => {
    const { writer, kept, started } = recorder();
    const made = sessionFromTokens(writer, tokens, { entry: 'callback', now: 1_000_500, user: { user_id: 'u-1' } });
    expect(made.session).toMatchObject({
      accessToken: 'at-new',
      refreshToken: 'rt-new',
      expiresAt: 1000 + 600,
      lifetime: 600,
      // The sign-in time to the millisecond (revokeUser() tells a sign-in just after it); the rest whole seconds.
      createdAt: 1000.5,
      touchedAt: 1000,
    });
    expect(made.session.id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(made.setCookie).toEqual(['c=1']);
    expect([kept, started]).toEqual([[], []]);
    await made.commit();
    expect(kept).toEqual([[made.session, false]]);
    expect(started).toEqual(['u-1']);
  });

  it('leaves out a refresh token the SSO did not issue', () => {
    const { writer } = recorder();
    const made = sessionFromTokens(writer, { ...tokens, refreshToken: undefined }, { entry: 'launch-console', now: 0 });
    expect('refreshToken' in made.session).toBe(false);
  });

  it('refuses tokens too large for the cookie before keeping anything', () => {
    const { writer, kept } = recorder(() => {
      throw new Error('too large');
    });
    expect(() => sessionFromTokens(writer, tokens, { entry: 'callback', now: 0 })).toThrow('too large');
    expect(kept).toEqual([]);
  });

  it('overwrites the cookies the request carried (a real instance reads the new cookie back)', () => {
    const w = coreWorld();
    const made = sessionFromTokens(w.lifecycle, tokens, {
      entry: 'callback',
      now: w.clock(),
      previous: ['sso_session.0', 'sso_session.1'],
    });
    expect(made.setCookie).toEqual([
      expect.stringMatching(/^sso_session=/),
      expect.stringMatching(/^sso_session\.0=;.*Max-Age=0/),
      expect.stringMatching(/^sso_session\.1=;.*Max-Age=0/),
    ]);
    expect(w.sessionIn(made.setCookie)).toEqual(made.session);
  });
});

describe('sessionFromTokens: a refresh', () => {
  it('keeps the id and sign-in time, counts the lifetime from issue, writes behind, and counts no sign-in', async () => {
    const { writer, kept, started } = recorder();
    const old: SessionData = {
      id: 'sid-1',
      accessToken: 'at-1',
      refreshToken: 'rt-1',
      tokenType: 'Bearer',
      expiresAt: 100,
      lifetime: 60,
      createdAt: 40,
      touchedAt: 50,
    };
    const made = sessionFromTokens(
      writer,
      { ...tokens, refreshToken: undefined },
      { entry: 'refresh', now: 95_000, issuedAt: 90_000, renews: old },
    );
    expect(made.session).toEqual({
      id: 'sid-1',
      accessToken: 'at-new',
      refreshToken: 'rt-1',
      tokenType: 'Bearer',
      expiresAt: 90 + 600,
      lifetime: 600,
      createdAt: 40,
      touchedAt: 95,
    });
    expect(made.setCookie).toBeUndefined();
    await made.commit();
    expect(kept).toEqual([[made.session, true]]);
    expect(started).toEqual([]);
  });
});
