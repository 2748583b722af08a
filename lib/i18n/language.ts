import { negotiateLanguage, type Language } from '../util/accept-language';

export { negotiateLanguage, type Language };

/** The `language` option: a fixed language, or `auto` (from each request's `Accept-Language`). */
export type LanguageSetting = 'auto' | Language;

/** The language of one request under the `language` option. */
export function requestLanguage(setting: LanguageSetting, header: string | undefined): Language {
  return setting === 'auto' ? negotiateLanguage(header) : setting;
}
