// The parts of a Markdown file that a translation must keep in step with its original: headings
// (level, text, anchor), fenced code blocks, and the in-page links. Fences and HTML comments are
// skipped when looking for headings and links, so a `# comment` inside a sh block is no heading.

export interface Heading {
  level: number;
  text: string;
  /** The `<a name="…">` (or `<a id="…">`) written in the heading, if any. */
  explicitId: string | undefined;
  /** The id GitHub generates from the heading text (with `-1`, `-2` for repeats). */
  slug: string;
  line: number;
}

export interface CodeBlock {
  /** The fence's info string, e.g. `js`. */
  info: string;
  code: string;
  line: number;
}

export interface Table {
  /** The cells of each row, header and delimiter rows included (a `\|` inside a cell is no separator). */
  rows: string[][];
  line: number;
}

export interface InPageLink {
  anchor: string;
  line: number;
}

export interface Outline {
  headings: Heading[];
  blocks: CodeBlock[];
  tables: Table[];
  links: InPageLink[];
  /** Every id a `#…` link can reach: heading slugs and explicit `<a id>` / `<a name>` anchors. */
  ids: Set<string>;
}

const explicitIdPattern = /<a\s+(?:id|name)="([^"]+)"\s*>\s*<\/a>/g;

/** GitHub's heading id: lower case, markup and punctuation dropped (letters, digits, `_`, `-` kept), spaces to `-`. */
export function githubSlug(text: string): string {
  return text
    .replace(/<[^>]*>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

export function outline(markdown: string): Outline {
  const headings: Heading[] = [];
  const blocks: CodeBlock[] = [];
  const tables: Table[] = [];
  const links: InPageLink[] = [];
  const ids = new Set<string>();
  const seenSlugs = new Map<string, number>();
  const lines = markdown.split('\n');
  let fence: { marker: string; info: string; start: number; body: string[] } | undefined;
  let inComment = false;

  lines.forEach((raw, index) => {
    const line = index + 1;
    if (fence !== undefined) {
      if (raw.trim().startsWith(fence.marker) && raw.trim().replace(/[`~]/g, '') === '') {
        blocks.push({ info: fence.info, code: fence.body.join('\n'), line: fence.start });
        fence = undefined;
      } else {
        fence.body.push(raw);
      }
      return;
    }
    if (inComment) {
      inComment = !raw.includes('-->');
      return;
    }
    const open = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(raw);
    if (open !== null) {
      fence = { marker: open[1] ?? '```', info: (open[2] ?? '').trim(), start: line, body: [] };
      return;
    }
    if (raw.startsWith('|')) {
      const cells = raw
        .replace(/\\\|/g, '\ue000')
        .split('|')
        .slice(1, -1)
        .map((c) => c.replace(/\ue000/g, '\\|').trim());
      const table = tables[tables.length - 1];
      if (table !== undefined && table.line + table.rows.length === line) table.rows.push(cells);
      else tables.push({ rows: [cells], line });
    }
    const text = raw.replace(/<!--.*?-->/g, '');
    if (text.includes('<!--')) inComment = true;
    for (const m of text.matchAll(explicitIdPattern)) ids.add(m[1] ?? '');
    for (const m of text.replace(/`[^`]*`/g, '').matchAll(/\]\(#([^)\s]+)\)/g))
      links.push({ anchor: m[1] ?? '', line });
    const heading = /^(#{1,6})\s+(.*?)\s*$/.exec(text);
    if (heading === null) return;
    const headingText = heading[2] ?? '';
    const explicitId = [...headingText.matchAll(explicitIdPattern)][0]?.[1];
    const base = githubSlug(headingText.replace(/`/g, ''));
    const repeats = seenSlugs.get(base) ?? 0;
    seenSlugs.set(base, repeats + 1);
    const slug = repeats === 0 ? base : `${base}-${repeats}`;
    ids.add(slug);
    headings.push({ level: (heading[1] ?? '').length, text: headingText, explicitId, slug, line });
  });
  if (fence !== undefined) throw new Error(`unclosed code fence opened on line ${fence.start}`);
  return { headings, blocks, tables, links, ids };
}

/**
 * Pairs two sequences by a key, keeping order (longest common subsequence): what is left over on
 * either side is what one file has and the other has not at that place.
 */
export function align<T, U>(
  left: readonly T[],
  right: readonly U[],
  same: (a: T, b: U) => boolean,
): Array<{ left?: T; right?: U }> {
  const n = left.length;
  const m = right.length;
  // lcs(i, j): length of the longest common subsequence of left[i..] and right[j..].
  const table = new Array<number>((n + 1) * (m + 1)).fill(0);
  const lcs = (i: number, j: number): number => table[i * (m + 1) + j] ?? 0;
  const matches = (i: number, j: number): boolean => same(left[i] as T, right[j] as U);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = matches(i, j) ? lcs(i + 1, j + 1) + 1 : Math.max(lcs(i + 1, j), lcs(i, j + 1));
    }
  }
  const pairs: Array<{ left?: T; right?: U }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && matches(i, j)) pairs.push({ left: left[i++], right: right[j++] });
    else if (j >= m || (i < n && lcs(i + 1, j) >= lcs(i, j + 1))) pairs.push({ left: left[i++] });
    else pairs.push({ right: right[j++] });
  }
  return pairs;
}
