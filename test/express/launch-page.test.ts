import { LAUNCH_CONFIRM_TEXT, launchConfirmationHtml } from '../../lib/express/launch-page';

describe('the account-switch page', () => {
  const page = {
    current: { user_id: 'usr-a', user_name: 'alice' },
    next: { user_id: 'usr-b', user_name: 'bob' },
    action: '/launch',
    sealed: 'SEALED_blob-1',
    cancel: '/reports?id=7&x=<y>',
  };

  it('names both accounts, posts the sealed field to the launch route, links back to the target', () => {
    const html = launchConfirmationHtml(page);
    expect(html).toContain('<strong>alice (usr-a)</strong>');
    expect(html).toContain('<strong>bob (usr-b)</strong>');
    expect(html).toContain('<form method="post" action="/launch">');
    expect(html).toContain('<input type="hidden" name="launch" value="SEALED_blob-1">');
    expect(html).toContain('<a href="/reports?id=7&amp;x=&lt;y&gt;">');
    expect(html).not.toMatch(/<script|\son\w+=|style=/i);
  });

  it('escapes names the SSO returns (no markup injection)', () => {
    const html = launchConfirmationHtml({
      ...page,
      next: { user_id: 'usr-"x"', user_name: '<img src=x onerror=alert(1)>' },
      current: { user_id: 'usr-a' },
    });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; (usr-&quot;x&quot;)');
    expect(html).toContain('<strong>usr-a</strong>');
  });

  it('takes its strings from one object (for a page catalogue)', () => {
    const html = launchConfirmationHtml(page, {
      ...LAUNCH_CONFIRM_TEXT,
      lang: 'zh-CN',
      title: '切换账号？',
      switch: '以 {next} 继续',
    });
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('<title>切换账号？</title>');
    expect(html).toContain('以 <strong>bob (usr-b)</strong> 继续');
  });
});
