import type http from 'node:http';
import { negotiateLanguage, varyOnLanguage, type Language } from '../util/accept-language';

/** Every word of the emulator's pages. `{client}` and `{origin}`, `{option}`: filled in by the page. */
export interface EmulatorText {
  readonly lang: Language;
  /** After each page's title: `Sign in · SSO emulator`. */
  readonly titleSuffix: string;
  readonly note: string;
  readonly signIn: {
    readonly title: string;
    /** `{client}` and `{origin}` stand for HTML the page fills in. */
    readonly to: string;
    readonly chooseUser: string;
    readonly typeName: string;
    readonly placeholder: string;
    readonly submit: string;
    readonly cancel: string;
  };
  readonly refused: { readonly title: string };
  readonly console: {
    readonly title: string;
    readonly intro: string;
    readonly notSet: string;
    readonly open: string;
    readonly saas: string;
    /** The tooltip of a disabled button; `{option}`: `console.authUrl` or `console.appUrl`. */
    readonly setOption: string;
  };
}

/** The emulator's own table (it is an app of its own: it does not use the package's catalogue). */
export const EMULATOR_TEXT: { readonly [L in Language]: EmulatorText } = {
  en: {
    lang: 'en',
    titleSuffix: ' · SSO emulator',
    note: 'SSO emulator: for development and tests only. No password is asked.',
    signIn: {
      title: 'Sign in',
      to: 'to {client}, then back to {origin}',
      chooseUser: 'Choose a user',
      typeName: '…or type a user name',
      placeholder: 'e.g. carol',
      submit: 'Sign in',
      cancel: 'Cancel',
    },
    refused: { title: 'Sign-in request refused' },
    console: {
      title: 'Console',
      intro: 'Launch the app as a user.',
      notSet: 'not set',
      open: 'Open from the console',
      saas: 'SaaS redirect',
      setOption: "set the emulator's {option} option",
    },
  },
  'zh-CN': {
    lang: 'zh-CN',
    titleSuffix: ' · SSO 模拟器',
    note: 'SSO 模拟器：仅供开发和测试使用，不需要密码。',
    signIn: {
      title: '登录',
      to: '登录到 {client}，然后返回 {origin}',
      chooseUser: '选择用户',
      typeName: '…或输入用户名',
      placeholder: '例如 carol',
      submit: '登录',
      cancel: '取消',
    },
    refused: { title: '登录请求被拒绝' },
    console: {
      title: '控制台',
      intro: '以某个用户的身份打开应用。',
      notSet: '未设置',
      open: '从控制台打开',
      saas: 'SaaS 跳转',
      setOption: '请设置模拟器的 {option} 选项',
    },
  },
};

/**
 * The words of a page for this request, from its `Accept-Language`; the response gets
 * `Content-Language` and `Vary: Accept-Language`.
 */
export function pageText(req: http.IncomingMessage, res: http.ServerResponse): EmulatorText {
  const text = EMULATOR_TEXT[negotiateLanguage(req.headers['accept-language'])];
  res.setHeader('content-language', text.lang);
  varyOnLanguage(res);
  return text;
}
