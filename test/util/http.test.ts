import { jsonObject, retCode } from '../../lib/util/http';

describe('retCode: the one reading of ret_code (SSO and cloud API)', () => {
  it.each([
    [undefined, undefined],
    [null, undefined],
    [0, undefined],
    ['0', undefined],
    ['00', undefined],
    [1200, 1200],
    ['1200', 1200],
    ['-5', -5],
    [12.5, 'malformed'],
    ['12.5', 'malformed'],
    ['abc', 'malformed'],
    ['', 'malformed'],
    ['1234567890', 'malformed'],
    [true, 'malformed'],
  ])('%p reads as %p', (value, expected) => {
    expect(retCode(value)).toBe(expected);
  });
});

describe('jsonObject: the one JSON body parser', () => {
  it('returns the object a body holds, and undefined for anything else', () => {
    expect(jsonObject('{"a":1}')).toEqual({ a: 1 });
    for (const body of ['[1]', '"x"', 'null', '<html>', '', '{"a":', undefined, 42])
      expect(jsonObject(body)).toBeUndefined();
  });
});
