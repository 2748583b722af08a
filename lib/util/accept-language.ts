/** The languages of the pages and messages the package (and its emulator) renders. */
export type Language = 'en' | 'zh-CN';

/** Longest `Accept-Language` read; browsers send well under 200 characters. */
const MAX_HEADER = 1024;
/** Most language ranges weighed; the rest are ignored. */
const MAX_RANGES = 32;

/** The supported language of one range of `Accept-Language`, or undefined (`zh-TW`, `fr`, …). */
function supported(range: string): Language | undefined {
  const tag = range.toLowerCase();
  if (tag === 'zh' || tag === 'zh-cn' || tag === 'zh-sg' || tag === 'zh-hans' || tag.startsWith('zh-hans-'))
    return 'zh-CN';
  if (tag === 'en' || tag.startsWith('en-') || tag === '*') return 'en';
  return undefined;
}

/**
 * The language to answer in, from an `Accept-Language` header (RFC 9110 §12.5.4): the supported
 * range with the highest `q` (the first of equal ones) wins; `zh`, `zh-CN`, `zh-SG` and `zh-Hans`
 * give Simplified Chinese; `q=0` excludes a range; anything else, or no header, gives English.
 */
export function negotiateLanguage(header: string | undefined): Language {
  if (header === undefined || header === '') return 'en';
  let best: Language = 'en';
  let bestQ = 0;
  const ranges = header.slice(0, MAX_HEADER).split(',', MAX_RANGES);
  for (const part of ranges) {
    const [range = '', ...params] = part.split(';');
    const language = supported(range.trim());
    if (language === undefined) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m !== null) q = Math.min(1, Number(m[1]));
    }
    if (q > bestQ) {
      best = language;
      bestQ = q;
    }
  }
  return best;
}

/** Adds `Accept-Language` to a response's `Vary`, keeping what is there. */
export function varyOnLanguage(res: {
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: string): unknown;
}): void {
  const vary = res.getHeader('vary');
  const current = Array.isArray(vary) ? vary.join(', ') : vary === undefined ? '' : String(vary);
  if (current === '') res.setHeader('vary', 'Accept-Language');
  else if (!/(^|,)\s*(accept-language|\*)\s*(,|$)/i.test(current)) res.setHeader('vary', `${current}, Accept-Language`);
}
