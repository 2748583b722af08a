import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MESSAGES_ZH, PAGE_TEXT, localizeMessage } from '../../lib/i18n/catalogue';
import { BUILT_IN_PAGES } from '../../lib/i18n/pages';
import type { SsoGuardErrorCode } from '../../lib/errors';

/** Every .ts file under lib/, but the catalogue's own folder. */
function libSources(dir = path.join(__dirname, '../../lib')): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'i18n' ? '' : libSources(p);
      return e.name.endsWith('.ts') ? readFileSync(p, 'utf8') : '';
    })
    .join('\n');
}

describe('catalogue', () => {
  const source = libSources();

  it.each(Object.keys(MESSAGES_ZH))('%j is still a message lib/ writes', (en) => {
    for (const piece of en.split('{}')) expect(source).toContain(piece);
  });

  it('has the words of every page kind in both languages', () => {
    expect(Object.keys(PAGE_TEXT).sort()).toEqual(Object.keys(BUILT_IN_PAGES).sort());
    for (const text of Object.values(PAGE_TEXT)) {
      expect(Object.keys(text).sort()).toEqual(['en', 'zh-CN']);
      expect(Object.keys(text.en).sort()).toEqual(Object.keys(text['zh-CN']).sort());
    }
  });

  it('localizeMessage: English as is; exact, templated, then per-code Chinese', () => {
    expect(localizeMessage('unauthenticated', 'Sign-in required', 'en')).toBe('Sign-in required');
    expect(localizeMessage('unauthenticated', 'Sign-in required', 'zh-CN')).toBe('需要登录');
    expect(localizeMessage('invalid_request', 'Parameter "code" is too long', 'zh-CN')).toBe('参数“code”过长');
    expect(localizeMessage('access_denied', 'Sign-in was not completed (access_denied)', 'zh-CN')).toBe(
      '登录未完成 (access_denied)',
    );
    expect(localizeMessage('upstream_timeout', 'SSO check_token did not answer in time', 'zh-CN')).toBe(
      'SSO 响应超时，请稍后重试',
    );
    expect(localizeMessage('no_such_code' as SsoGuardErrorCode, 'x', 'zh-CN')).toBe('请求无效');
  });
});
