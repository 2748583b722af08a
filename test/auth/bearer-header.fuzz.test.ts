import fc from 'fast-check';
import type { Emulator } from '../../lib/testing';
import { EXPRESS_VERSIONS, createTestApp, startTestEmulator, type ExpressFactory } from '../helpers/app';
import { serve, trackUnhandledRejections, type Served } from '../helpers/serve';

// Bearer mode (API clients sending an SSO access token): any Authorization header is a 200 only
// for a genuine, live token, a 401 otherwise, never a 5xx; a header that cannot hold a token the
// SSO issued costs no SSO call.

trackUnhandledRejections();

const TOKEN_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/='];

describe.each(EXPRESS_VERSIONS)('Bearer header fuzzing (%s)', (_name, express) => {
  let sso: Emulator;
  let served: Served;
  let live: string;
  let revoked: string;

  beforeAll(async () => {
    sso = await startTestEmulator();
    served = await serve(createTestApp(express as ExpressFactory, sso, { bearer: true }));
    live = sso.issueTokens().access_token;
    revoked = sso.issueTokens().access_token;
    sso.revokeToken(revoked);
  });
  afterAll(async () => {
    await served.close();
    await sso.close();
  });

  it('200 only for the live token, 401 otherwise, never 5xx (2,000 runs)', async () => {
    const latin1 = fc
      .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
      .map((c) => String.fromCharCode(c));
    const token = fc.oneof(
      fc.constantFrom(
        live,
        revoked,
        `${live}x`,
        live.slice(0, -1),
        live.toUpperCase(),
        `${live}=`,
        `"${live}"`,
        `${live},${live}`,
        '',
        ' ',
      ),
      fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), maxLength: 80 }),
      fc.string({ unit: latin1, maxLength: 80 }),
      fc
        .tuple(fc.constantFrom(live, revoked), fc.nat(), latin1)
        .map(([t, n, c]) => t.slice(0, n % t.length) + c + t.slice(n % t.length)),
      fc.integer({ min: 8000, max: 9000 }).map((n) => 'A'.repeat(n)),
    );
    const header = fc
      .tuple(
        fc.constantFrom(
          'Bearer ',
          'bearer ',
          'BEARER ',
          'Bearer  ',
          'Bearer\t',
          'Bearer',
          'Basic ',
          'Token ',
          '',
          'Bearer: ',
        ),
        token,
        fc.constantFrom('', ' ', '  ', '\t'),
      )
      .map(([scheme, t, tail]) => scheme + t + tail);
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        sso.resetCounts();
        const res = await served.get('/api/me', { authorization, accept: 'application/json' });
        expect(res.status).toBeLessThan(500);
        // Node trims the header; the middleware takes what follows "Bearer " up to the end.
        const value = authorization.trim();
        const genuine = /^bearer /i.test(value) && value.slice(7).trim() === live;
        expect(res.status).toBe(genuine ? 200 : res.status === 431 ? 431 : 401);
        if (!/^[\x21-\x7e]+$/.test(value.slice(7).trim())) expect(sso.counts.check_token).toBe(0);
      }),
      { numRuns: 2000, seed: 0xbea7e4 },
    );
  }, 60_000);
});
