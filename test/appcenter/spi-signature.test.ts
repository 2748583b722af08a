import { createHmac } from 'node:crypto';
import { signSpiParams, spiStringToSign, verifySpiSignature } from '../../lib/appcenter/spi-signature';

const params = { time_stamp: '2021-06-22T09:15:03Z', action: 'TestConnection', note: 'a b/é' };

describe('spiStringToSign', () => {
  it.each([
    ['plain', 'action=TestConnection&note=a b/é&time_stamp=2021-06-22T09:15:03Z'],
    ['encoded', 'action=TestConnection&note=a%20b%2F%C3%A9&time_stamp=2021-06-22T09%3A15%3A03Z'],
    ['get-plain', 'GET\naction=TestConnection&note=a b/é&time_stamp=2021-06-22T09:15:03Z'],
    ['get-encoded', 'GET\naction=TestConnection&note=a%20b%2F%C3%A9&time_stamp=2021-06-22T09%3A15%3A03Z'],
  ] as const)('builds the %s form: sorted k=v joined by &, signature left out', (form, expected) => {
    expect(spiStringToSign({ ...params, signature: 'x' }, form)).toBe(expected);
  });

  it('signs base64(HMAC-SHA256(key, string))', () => {
    const expected = createHmac('sha256', 'k').update(spiStringToSign(params, 'plain')!).digest('base64');
    expect(signSpiParams('k', params)).toBe(expected);
    expect(verifySpiSignature(params, expected, ['other', 'k'])).toBe(true);
    expect(verifySpiSignature(params, expected, ['other'])).toBe(false);
    expect(verifySpiSignature(params, '', ['k'])).toBe(false);
  });

  it('has no encoded form for a lone surrogate, and verification does not throw', () => {
    expect(spiStringToSign({ a: '\ud800' }, 'encoded')).toBeUndefined();
    expect(verifySpiSignature({ a: '\ud800' }, 'x', ['k'])).toBe(false);
  });
});
