import { negotiateLanguage, requestLanguage } from '../../lib/i18n/language';

describe('negotiateLanguage', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['zh', 'zh-CN'],
    ['zh-CN', 'zh-CN'],
    ['zh-cn', 'zh-CN'],
    ['zh-SG', 'zh-CN'],
    ['zh-Hans', 'zh-CN'],
    ['zh-Hans-CN', 'zh-CN'],
    ['zh-TW', 'en'],
    ['zh-HK', 'en'],
    ['zh-Hant-TW', 'en'],
    ['en-GB', 'en'],
    ['fr, de', 'en'],
    ['fr, zh;q=0.1', 'zh-CN'],
    ['en;q=0.9, zh-CN', 'zh-CN'],
    ['zh-CN;q=0.8, en;q=0.9', 'en'],
    ['zh-CN;q=0.9, en;q=0.9', 'zh-CN'],
    ['zh;q=0', 'en'],
    ['zh;q=0.000', 'en'],
    ['zh; q=0.5', 'zh-CN'],
    ['*', 'en'],
    ['*;q=0.9, zh', 'zh-CN'],
    ['zh;q=abc', 'zh-CN'],
    [';;,,zh', 'zh-CN'],
  ] as const)('%j -> %s', (header, expected) => {
    expect(negotiateLanguage(header)).toBe(expected);
  });

  it('reads a bounded part of a huge header', () => {
    expect(negotiateLanguage(`${'fr,'.repeat(20_000)}zh`)).toBe('en');
  });

  it('requestLanguage: a fixed language ignores the header', () => {
    expect(requestLanguage('en', 'zh-CN')).toBe('en');
    expect(requestLanguage('zh-CN', 'en')).toBe('zh-CN');
    expect(requestLanguage('auto', 'zh-CN')).toBe('zh-CN');
  });
});
