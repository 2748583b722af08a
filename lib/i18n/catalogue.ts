import type { SsoGuardErrorCode } from '../errors';
import type { Language } from './language';

/** The words of one page kind: its title, a sentence, and the labels of its links and buttons. */
export interface PageText {
  readonly title: string;
  readonly message?: string;
  /** A second sentence, when the page has one. */
  readonly detail?: string;
  /** The submit button of a confirmation form. */
  readonly submit?: string;
  /** The cancel link of a confirmation form. */
  readonly cancel?: string;
  /** The link back to sign-in, when the page has one. */
  readonly signIn?: string;
}

type ByLanguage<T> = { readonly [L in Language]: T };

/**
 * The words of every page the middleware renders, by page kind (see `PageContexts` in
 * pages.ts). A new page kind is one entry here and one in pages.ts.
 */
export const PAGE_TEXT = {
  forbidden: {
    en: { title: 'Access denied' },
    'zh-CN': { title: '无权访问' },
  },
  'sso-unavailable': {
    en: { title: 'Sign-in service unavailable', message: 'Please try again in a moment.' },
    'zh-CN': { title: '登录服务暂时不可用', message: '请稍后重试。' },
  },
  error: {
    en: { title: 'Sign-in failed', signIn: 'Sign in again' },
    'zh-CN': { title: '登录失败', signIn: '重新登录' },
  },
  'logout-confirm': {
    en: {
      title: 'Sign out?',
      message: 'Another site asked to sign you out of this application.',
      submit: 'Sign out',
      cancel: 'Cancel',
    },
    'zh-CN': {
      title: '退出登录？',
      message: '另一个网站请求将你从本应用退出登录。',
      submit: '退出登录',
      cancel: '取消',
    },
  },
  // `{current}`: the signed-in account; `{next}`: the account the launch link signs in.
  'switch-account': {
    en: {
      title: 'Switch account?',
      message: 'You are signed in as {current}.',
      detail: 'This link signs you in as {next}.',
      submit: 'Continue as {next}',
      cancel: 'Stay signed in as {current}',
    },
    'zh-CN': {
      title: '切换账号？',
      message: '你当前登录的账号是 {current}。',
      detail: '此链接将以 {next} 登录。',
      submit: '以 {next} 继续',
      cancel: '保持 {current} 的登录',
    },
  },
} as const satisfies Record<string, ByLanguage<PageText>>;

/**
 * Simplified Chinese of the messages the middleware answers with (the JSON `message` and the
 * page's sentence), keyed by the English message exactly as lib/ writes it. `{}` stands for the
 * variable part of a message. A test checks every key still occurs in lib/.
 */
export const MESSAGES_ZH: Readonly<Record<string, string>> = {
  'Sign-in required': '需要登录',
  'Session expired; sign in again': '会话已过期，请重新登录',
  'This account may not use this application': '此账号无权使用本应用',
  'This account may not sign in to this application': '此账号无权登录本应用',
  'This account may not use this page': '此账号无权访问此页面',
  'Cross-site logout refused; sign out from the app itself': '已拒绝来自其他网站的退出请求；请在本应用内退出登录',
  'Query string too long': '查询字符串过长',
  'A parameter is repeated': '有参数重复',
  'A parameter is too long': '有参数过长',
  'Parameter "{}" is repeated': '参数“{}”重复',
  'Parameter "{}" is too long': '参数“{}”过长',
  'Missing state parameter': '缺少 state 参数',
  'Missing code parameter': '缺少 code 参数',
  'Sign-in was not completed{}': '登录未完成{}',
  'Unknown, expired or already used login state; please sign in again': '登录状态无效、已过期或已被使用，请重新登录',
  'The SSO refused the authorization code ({})': 'SSO 拒绝了授权码（{}）',
  'The SSO refused the refresh token ({})': 'SSO 拒绝了刷新令牌（{}），请重新登录',
  'The SSO refused the refresh token': 'SSO 拒绝了刷新令牌，请重新登录',
  'The SSO did not accept the access token it just issued': 'SSO 不接受它刚签发的访问令牌',
  'The session store is unavailable': '会话存储暂时不可用',
  'The SSO refused the refresh token, which another instance may have just used; retry shortly':
    'SSO 拒绝了刷新令牌（可能刚被另一个实例使用），请稍后重试',
  'Timed out waiting for another instance to refresh the session': '等待其他实例刷新会话超时',
  'Too many unknown Bearer tokens being checked; retry shortly': '待校验的未知 Bearer 令牌过多，请稍后重试',
  'This account switch is no longer valid; open the link again': '此账号切换已失效，请重新打开链接',
  'Cross-site account switch refused; open the link again': '已拒绝来自其他网站的账号切换，请重新打开链接',
};

/** Simplified Chinese for a message not in MESSAGES_ZH (the SSO's failures carry technical detail). */
const BY_CODE_ZH: Readonly<Record<SsoGuardErrorCode, string>> = {
  unauthenticated: '需要登录',
  invalid_request: '请求无效',
  invalid_state: '登录状态无效，请重新登录',
  access_denied: '登录未完成',
  code_rejected: 'SSO 拒绝了授权码',
  forbidden: '无权访问',
  refresh_rejected: '会话已结束，请重新登录',
  upstream_error: 'SSO 返回了无法识别的应答',
  upstream_unavailable: 'SSO 暂时无法访问，请稍后重试',
  upstream_timeout: 'SSO 响应超时，请稍后重试',
  cloud_api_error: '云 API 调用失败',
  invalid_option: '配置错误',
  cross_site_request: '已拒绝来自其他网站的请求',
};

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The MESSAGES_ZH keys with a variable part, as patterns (built once). */
const PATTERNS: readonly (readonly [RegExp, string])[] = Object.entries(MESSAGES_ZH)
  .filter(([en]) => en.includes('{}'))
  .map(([en, zh]) => [new RegExp(`^${en.split('{}').map(escapeRegExp).join('(.*)')}$`), zh] as const);

/** An error's message in `lang`: the English one as is; else its translation, else its code's. */
export function localizeMessage(code: SsoGuardErrorCode, message: string, lang: Language): string {
  if (lang === 'en') return message;
  const exact = MESSAGES_ZH[message];
  if (exact !== undefined) return exact;
  for (const [pattern, zh] of PATTERNS) {
    const m = pattern.exec(message);
    if (m !== null) return zh.replace('{}', () => m[1] ?? '');
  }
  return BY_CODE_ZH[code] ?? BY_CODE_ZH.invalid_request;
}
