import { BUILT_IN_PAGES, pageAccount, switchAccountPageContext } from '../../lib/i18n/pages';

describe('the switch-account page', () => {
  const page = {
    current: pageAccount('usr-a', 'alice'),
    next: pageAccount('usr-b', 'bob'),
    action: '/launch',
    sealed: 'SEALED_blob-1',
    cancelUrl: '/reports?id=7&x=<y>',
  };
  const html = (lang: 'en' | 'zh-CN', p = page): string =>
    BUILT_IN_PAGES['switch-account'](switchAccountPageContext(lang, p));

  it('names both accounts, posts the sealed field to the launch route, links back to the target', () => {
    const en = html('en');
    expect(en).toContain('<p>You are signed in as <strong>alice (usr-a)</strong>.</p>');
    expect(en).toContain('<p>This link signs you in as <strong>bob (usr-b)</strong>.</p>');
    expect(en).toContain('<form method="post" action="/launch">');
    expect(en).toContain('<input type="hidden" name="launch" value="SEALED_blob-1">');
    expect(en).toContain('<button type="submit">Continue as <strong>bob (usr-b)</strong></button>');
    expect(en).toContain(
      '<a href="/reports?id=7&amp;x=&lt;y&gt;">Stay signed in as <strong>alice (usr-a)</strong></a>',
    );
    expect(en).not.toMatch(/<script|\son\w+=|style=/i);
  });

  it('in Simplified Chinese, from the catalogue', () => {
    const zh = html('zh-CN');
    expect(zh).toContain('<html lang="zh-CN">');
    expect(zh).toContain('<title>切换账号？</title>');
    expect(zh).toContain('以 <strong>bob (usr-b)</strong> 继续');
    expect(zh).not.toMatch(/signed in|Continue/);
  });

  it('escapes names the SSO returns (no markup injection, no replacement patterns)', () => {
    const out = html('en', {
      ...page,
      next: pageAccount('usr-"x"', '<img src=x onerror=alert(1)>'),
      current: pageAccount('usr-a', "$' $&"),
    });
    expect(out).not.toContain('<img');
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt; (usr-&quot;x&quot;)');
    expect(out).toContain('<strong>$&#39; $&amp; (usr-a)</strong>');
  });

  it('names an account by its id alone when it has no other name', () => {
    expect(pageAccount('usr-a', undefined)).toEqual({ userId: 'usr-a', name: undefined, displayName: 'usr-a' });
    expect(pageAccount('usr-a', '')).toEqual({ userId: 'usr-a', name: undefined, displayName: 'usr-a' });
    expect(pageAccount('usr-a', 'usr-a').displayName).toBe('usr-a');
    expect(pageAccount('usr-a', 7).displayName).toBe('usr-a');
  });

  it('its context: plain sentences in the language, one hidden field, frozen', () => {
    const context = switchAccountPageContext('zh-CN', page);
    expect(context).toEqual({
      lang: 'zh-CN',
      status: 200,
      title: '切换账号？',
      message: '你当前登录的账号是 alice (usr-a)。',
      detail: '此链接将以 bob (usr-b) 登录。',
      action: '/launch',
      method: 'post',
      fields: { launch: 'SEALED_blob-1' },
      cancelUrl: '/reports?id=7&x=<y>',
      submitLabel: '以 bob (usr-b) 继续',
      cancelLabel: '保持 alice (usr-a) 的登录',
      current: { userId: 'usr-a', name: 'alice', displayName: 'alice (usr-a)' },
      next: { userId: 'usr-b', name: 'bob', displayName: 'bob (usr-b)' },
    });
    expect(Object.isFrozen(context) && Object.isFrozen(context.fields)).toBe(true);
  });
});
