import fc from 'fast-check';
import {
  canonicalQuery,
  computeSignature,
  flattenParams,
  formatTimestamp,
  percentEncode,
  signRequest,
  stringToSign,
} from '../../lib/cloud/signer';

// The official RunInstances vector. `access_key_id` is part of the signed parameters: without it
// none of the three published signatures reproduces.
const RUN_INSTANCES: Record<string, string> = {
  access_key_id: 'QYACCESSKEYIDEXAMPLE',
  count: '1',
  'vxnets.1': 'vxnet-0',
  zone: 'pek1',
  instance_type: 'small_b',
  signature_version: '1',
  signature_method: 'HmacSHA256',
  instance_name: 'demo',
  image_id: 'centos64x86a',
  login_mode: 'passwd',
  login_passwd: 'QingCloud20130712',
  version: '1',
  action: 'RunInstances',
  time_stamp: '2013-08-27T14:30:10Z',
};

const STS_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdHMifQ.c2ln';
const DESCRIBE_STS: Record<string, string> = {
  access_key_id: 'TEMPAKEXAMPLE',
  action: 'DescribeInstances',
  signature_method: 'HmacSHA256',
  signature_version: '2',
  'status.1': 'running',
  time_stamp: '2020-05-25T07:20:28Z',
  token: STS_TOKEN,
  version: '1',
  zone: 'pek3',
};

const EDGE_NAME = "a b!'()*~.-_/+=&中文";
const EDGE: Record<string, string> = {
  access_key_id: 'QYACCESSKEYIDEXAMPLE',
  action: 'ModifyInstanceAttributes',
  instance: 'i-abc',
  instance_name: EDGE_NAME,
  signature_method: 'HmacSHA256',
  signature_version: '1',
  time_stamp: '2013-08-27T14:30:10Z',
  version: '1',
  zone: 'pek3a',
};

describe('official vectors', () => {
  test('RunInstances, GET /iaas/, zone pek1', () => {
    expect(computeSignature('SECRETACCESSKEY', 'GET', '/iaas/', RUN_INSTANCES)).toBe(
      '32bseYy39DOlatuewpeuW5vpmW51sD1A/JdGynqSpP8=',
    );
  });

  test('RunInstances, GET /iaas/, zone pek3a', () => {
    expect(computeSignature('SECRETACCESSKEY', 'GET', '/iaas/', { ...RUN_INSTANCES, zone: 'pek3a' })).toBe(
      'byjccvWIvAftaq+oublemagH3bYAlDWxxLFAzAsyslw=',
    );
  });

  test('the path is signed as sent: /iaas differs from /iaas/', () => {
    expect(computeSignature('SECRETACCESSKEY', 'GET', '/iaas', RUN_INSTANCES)).toBe(
      'MQ6mgjLWuCOj09FGPT0YrZbxq13f/r0OxEzn6hmv3hM=',
    );
  });

  test('the canonical query of RunInstances', () => {
    expect(canonicalQuery(RUN_INSTANCES)).toBe(
      'access_key_id=QYACCESSKEYIDEXAMPLE&action=RunInstances&count=1&image_id=centos64x86a&instance_name=demo' +
        '&instance_type=small_b&login_mode=passwd&login_passwd=QingCloud20130712&signature_method=HmacSHA256' +
        '&signature_version=1&time_stamp=2013-08-27T14%3A30%3A10Z&version=1&vxnets.1=vxnet-0&zone=pek1',
    );
  });

  test('Python SDK: STS token, GET /iam/', () => {
    expect(computeSignature('TEMPSECRETEXAMPLE', 'GET', '/iam/', DESCRIBE_STS)).toBe(
      'MgnEt4SyUrQr5olt3E1MaiMbICul8H6ur10dldazi7k=',
    );
  });

  test('Python SDK: STS token, POST /iam/', () => {
    expect(computeSignature('TEMPSECRETEXAMPLE', 'POST', '/iam/', DESCRIBE_STS)).toBe(
      'oNs6Y0vg3zzBdlzVeG2T7KcfrsdCX8yX636jvYnFsdg=',
    );
  });

  test('encoding edge case: value encoding and signature', () => {
    expect(percentEncode(EDGE_NAME)).toBe('a%20b%21%27%28%29%2A~.-_%2F%2B%3D%26%E4%B8%AD%E6%96%87');
    expect(canonicalQuery(EDGE)).toContain('&instance_name=a%20b%21%27%28%29%2A~.-_%2F%2B%3D%26%E4%B8%AD%E6%96%87&');
    expect(computeSignature('SECRETACCESSKEY', 'GET', '/iaas/', EDGE)).toBe(
      'XZ+2LtVV2YHV722gY/FsdQwDBF7g+vQsfufxniH7CHU=',
    );
  });
});

describe('signRequest', () => {
  test('reproduces the STS vector from call parameters, adding what the signer owns', () => {
    const signed = signRequest(
      { accessKey: 'TEMPAKEXAMPLE', secretKey: 'TEMPSECRETEXAMPLE', token: STS_TOKEN },
      {
        params: { action: 'DescribeInstances', status: ['running'], zone: 'pek3' },
        now: new Date('2020-05-25T07:20:28.999Z'),
      },
    );
    expect(signed.method).toBe('GET');
    expect(signed.path).toBe('/iam/');
    expect(signed.params).toEqual(DESCRIBE_STS);
    expect(signed.signature).toBe('MgnEt4SyUrQr5olt3E1MaiMbICul8H6ur10dldazi7k=');
    expect(signed.query).toBe(
      `${canonicalQuery(DESCRIBE_STS)}&signature=MgnEt4SyUrQr5olt3E1MaiMbICul8H6ur10dldazi7k%3D`,
    );
  });

  test('POST signs the method', () => {
    const signed = signRequest(
      { accessKey: 'TEMPAKEXAMPLE', secretKey: 'TEMPSECRETEXAMPLE', token: STS_TOKEN },
      {
        method: 'POST',
        params: { action: 'DescribeInstances', 'status.1': 'running', zone: 'pek3' },
        now: Date.parse('2020-05-25T07:20:28Z'),
      },
    );
    expect(signed.signature).toBe('oNs6Y0vg3zzBdlzVeG2T7KcfrsdCX8yX636jvYnFsdg=');
  });

  test('reproduces RunInstances with a long-lived key: /iaas/ and signature_version 1 by default', () => {
    const signed = signRequest(
      { accessKey: 'QYACCESSKEYIDEXAMPLE', secretKey: 'SECRETACCESSKEY' },
      {
        params: {
          action: 'RunInstances',
          count: 1,
          vxnets: ['vxnet-0'],
          zone: 'pek1',
          instance_type: 'small_b',
          instance_name: 'demo',
          image_id: 'centos64x86a',
          login_mode: 'passwd',
          login_passwd: 'QingCloud20130712',
        },
        now: new Date('2013-08-27T14:30:10Z'),
      },
    );
    expect(signed.path).toBe('/iaas/');
    expect(signed.params).toEqual(RUN_INSTANCES);
    expect(signed.signature).toBe('32bseYy39DOlatuewpeuW5vpmW51sD1A/JdGynqSpP8=');
  });

  test('signature version 1 with a token is an option; a given version is kept', () => {
    const signed = signRequest(
      { accessKey: 'AK', secretKey: 'SK', token: 'T' },
      { params: { action: 'DescribeUsers', version: 2 }, signatureVersion: 1, now: 0 },
    );
    expect(signed.params).toMatchObject({
      signature_version: '1',
      version: '2',
      token: 'T',
      time_stamp: '1970-01-01T00:00:00Z',
    });
  });

  test.each(['access_key_id', 'signature', 'signature_method', 'signature_version', 'time_stamp', 'token'])(
    'refuses a caller-set %s',
    (name) => {
      expect(() => signRequest({ accessKey: 'AK', secretKey: 'SK' }, { params: { action: 'X', [name]: 'v' } })).toThrow(
        expect.objectContaining({ code: 'invalid_option', message: expect.stringContaining(`"${name}"`) }),
      );
    },
  );

  test('refuses an unknown method or signature version', () => {
    const creds = { accessKey: 'AK', secretKey: 'SK' };
    expect(() => signRequest(creds, { params: {}, method: 'PUT' as 'GET' })).toThrow(/"GET" or "POST"/);
    expect(() => signRequest(creds, { params: {}, signatureVersion: 3 as 1 })).toThrow(/1 or 2/);
  });
});

describe('flattenParams', () => {
  test('lists are 1-based, objects use dotted names, scalars are stringified', () => {
    expect(
      flattenParams({
        action: 'RunInstances',
        count: 2,
        dry: false,
        big: 10n,
        instances: ['i-1', 'i-2'],
        tags: [{ tag_id: 't-1', key: 'k' }, { tag_id: 't-2' }],
        conf: { a: 1, b: { c: true } },
        nested: [['x', 'y']],
        gone: undefined,
        nothing: null,
      }),
    ).toEqual({
      ...{ action: 'RunInstances', count: '2', dry: 'false', big: '10' },
      ...{ 'instances.1': 'i-1', 'instances.2': 'i-2' },
      ...{ 'tags.1.tag_id': 't-1', 'tags.1.key': 'k', 'tags.2.tag_id': 't-2' },
      ...{ 'conf.a': '1', 'conf.b.c': 'true', 'nested.1.1': 'x', 'nested.1.2': 'y' },
    });
  });

  test('null and undefined list entries are skipped without leaving a gap', () => {
    expect(flattenParams({ ids: [null, 'a', undefined, 'b'], empty: [] })).toEqual({ 'ids.1': 'a', 'ids.2': 'b' });
  });

  test('keeps a parameter named __proto__ as data', () => {
    const params = JSON.parse('{"__proto__":"x"}') as Record<string, unknown>;
    expect(flattenParams(params)['__proto__']).toBe('x');
  });

  test('refuses a name produced twice and values it cannot send', () => {
    expect(() => flattenParams({ 'ids.1': 'a', ids: ['b'] })).toThrow(/"ids.1" is given twice/);
    expect(() => flattenParams({ n: NaN })).toThrow(/"n" must be a string.*received NaN/);
    expect(() => flattenParams({ d: new Date(0) })).toThrow(/received a Date/);
    expect(() => flattenParams({ f: () => 1 })).toThrow(/received a function/);
  });
});

describe('formatTimestamp', () => {
  test('UTC, seconds precision, no milliseconds', () => {
    expect(formatTimestamp(new Date('2013-08-27T14:30:10.987Z'))).toBe('2013-08-27T14:30:10Z');
    expect(formatTimestamp(Date.UTC(2020, 4, 25, 7, 20, 28, 1))).toBe('2020-05-25T07:20:28Z');
    expect(() => formatTimestamp(NaN)).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  });

  test('property: always YYYY-MM-DDThh:mm:ssZ, within a second of the input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), (ms) => {
        const s = formatTimestamp(ms);
        expect(s).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        expect(ms - Date.parse(s)).toBeGreaterThanOrEqual(0);
        expect(ms - Date.parse(s)).toBeLessThan(1000);
      }),
    );
  });
});

describe('percentEncode', () => {
  test("differs from encodeURIComponent on ! ' ( ) *", () => {
    expect(percentEncode("!'()*")).toBe('%21%27%28%29%2A');
    expect(percentEncode(' ')).toBe('%20');
    expect(percentEncode('AZaz09-_.~')).toBe('AZaz09-_.~');
  });

  test('refuses a lone surrogate without echoing the value', () => {
    expect(() => percentEncode('secret\uD800')).toThrow(
      expect.objectContaining({ code: 'invalid_option', message: expect.not.stringContaining('secret') }),
    );
  });

  test('property: round-trips and only emits unreserved characters and upper-case %XX', () => {
    const strings = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
    fc.assert(
      fc.property(strings, (s) => {
        const e = percentEncode(s);
        expect(e).toMatch(/^(?:[A-Za-z0-9\-_.~]|%[0-9A-F]{2})*$/);
        expect(decodeURIComponent(e)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('signature properties', () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9_.]{0,11}$/);
  const paramsArb = fc.dictionary(name, fc.string({ unit: 'grapheme', maxLength: 20 }), { minKeys: 1, maxKeys: 12 });

  test('independent of the insertion order of parameters', () => {
    fc.assert(
      fc.property(paramsArb, fc.infiniteStream(fc.nat()), (params, seeds) => {
        const entries = Object.entries(params);
        const shuffled = entries.map((e) => [seeds.next().value as number, e] as const).sort((a, b) => a[0] - b[0]);
        const reordered = Object.fromEntries(shuffled.map(([, e]) => e));
        expect(computeSignature('SK', 'GET', '/iam/', reordered)).toBe(computeSignature('SK', 'GET', '/iam/', params));
      }),
    );
  });

  test('changing any single byte of any parameter value changes the signature', () => {
    const arb = paramsArb.chain((params) => {
      const keys = Object.keys(params);
      return fc.record({
        params: fc.constant(params),
        key: fc.constantFrom(...keys),
        pos: fc.nat(),
        byte: fc.integer({ min: 0x20, max: 0x7e }),
      });
    });
    fc.assert(
      fc.property(arb, ({ params, key, pos, byte }) => {
        const bytes = Buffer.from(params[key] as string, 'utf8');
        // An empty value has no byte to change: appending one is the nearest single-byte edit.
        const changed = bytes.length === 0 ? Buffer.from([byte]) : Buffer.from(bytes);
        if (bytes.length > 0) {
          const i = pos % bytes.length;
          changed[i] = bytes[i] === byte ? byte ^ 1 : byte;
        }
        // A replaced byte inside a multi-byte character can leave invalid UTF-8, which can't be sent
        // as a string; the sent (decoded) value is what matters.
        const value = changed.toString('utf8');
        fc.pre(value !== params[key]);
        expect(computeSignature('SK', 'GET', '/iam/', { ...params, [key]: value })).not.toBe(
          computeSignature('SK', 'GET', '/iam/', params),
        );
      }),
      { numRuns: 500 },
    );
  });
});

test('stringToSign is METHOD, path and canonical query on three lines', () => {
  expect(stringToSign('POST', '/iam', { b: '2', a: '1 2' })).toBe('POST\n/iam\na=1%202&b=2');
});

test('names sort by UTF-8 bytes, not UTF-16 units', () => {
  // U+FF61 (UTF-8 EF…) sorts after U+1F600's surrogate pair (D83D…) in UTF-16, before it (F0…) in UTF-8.
  expect(canonicalQuery({ '\u{1F600}': '1', '\uFF61': '2' })).toBe('%EF%BD%A1=2&%F0%9F%98%80=1');
});
