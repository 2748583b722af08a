// README.zh-CN.md is README.md in Simplified Chinese. It must keep the same outline: the same
// headings at the same levels in the same order, each zh heading carrying the anchor of the
// English one as `<a name="…"></a>`; the same fenced code blocks, byte for byte, in the same
// order; the same tables (rows and columns); and every `#…` link reaching an anchor. Each failure
// names the heading, block or table out of step and where, so a README change on main can be
// carried over to the translation section by section.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { align, outline, type CodeBlock, type Heading, type Outline, type Table } from '../helpers/markdown-outline';

const root = join(__dirname, '..', '..');
const EN = 'README.md';
const ZH = 'README.zh-CN.md';
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

const en = read(EN);
const zh = read(ZH);
const enOutline = outline(en);
const zhOutline = outline(zh);

/** The anchor a heading is known by: its explicit `<a name>` (or `<a id>`) if it has one, else GitHub's. */
const anchorOf = (h: Heading): string => h.explicitId ?? h.slug;
const show = (h: Heading): string =>
  `"${'#'.repeat(h.level)} ${h.text.replace(/\s*<a\s[^>]*><\/a>\s*/g, ' ').trim()}" (#${anchorOf(h)})`;

/** The anchor of the heading a line sits under, for saying where a block is. */
function sectionOf(o: Outline, line: number): string {
  const under = o.headings.filter((h) => h.line < line).pop();
  return under === undefined ? 'the top' : `#${anchorOf(under)}`;
}

function firstLine(b: CodeBlock): string {
  const first = b.code.split('\n').find((l) => l.trim() !== '') ?? '';
  return first.length > 60 ? `${first.slice(0, 60)}…` : first;
}

function firstDifference(a: CodeBlock, b: CodeBlock): string {
  const aLines = a.code.split('\n');
  const bLines = b.code.split('\n');
  const at = aLines.findIndex((l, i) => l !== bLines[i]);
  const index = at === -1 ? aLines.length : at;
  return `its line ${index + 1} is ${JSON.stringify(aLines[index] ?? '(end)')} in ${EN}, ${JSON.stringify(bLines[index] ?? '(end)')} in ${ZH}`;
}

/**
 * How a translated table (under the same heading as its original) differs in shape: the first row whose cell count differs, or whose first
 * cell is only code (an option, a code, an instrument: not translated) and not the same. `undefined`: none.
 */
const codeOnly = (cell: string | undefined): boolean =>
  cell !== undefined && cell.includes('`') && !/\p{L}/u.test(cell.replace(/`[^`]*`/g, ''));

function tableDifference(t: Table, z: Table): string | undefined {
  for (let i = 0; i < Math.max(t.rows.length, z.rows.length); i++) {
    const a = t.rows[i];
    const b = z.rows[i];
    if (a === undefined) return `${ZH} has an extra row ${i + 1}: ${JSON.stringify(b?.[0])}`;
    if (b === undefined) return `${ZH} lacks row ${i + 1} (${EN} line ${t.line + i}: ${JSON.stringify(a[0])})`;
    if (a.length !== b.length) return `row ${i + 1} has ${a.length} cells in ${EN}, ${b.length} in ${ZH}`;
    if (codeOnly(a[0]) && a[0] !== b[0]) {
      return `row ${i + 1} is ${JSON.stringify(a[0])} in ${EN} (line ${t.line + i}), ${JSON.stringify(b[0])} in ${ZH}`;
    }
  }
  return undefined;
}

describe('README.zh-CN.md keeps in step with README.md', () => {
  it('links each file to the other in its first lines', () => {
    const head = (text: string): string => text.split('\n').slice(0, 5).join('\n');
    expect({ [EN]: head(en).includes(`](${ZH})`), [ZH]: head(zh).includes(`](${EN})`) }).toEqual({
      [EN]: true,
      [ZH]: true,
    });
  });

  it('gives every zh heading the anchor of the English heading it translates', () => {
    const missing = zhOutline.headings
      .filter((h) => h.explicitId === undefined)
      .map((h) => `${ZH} line ${h.line}: heading "${h.text}" has no <a name="…"></a> with its English anchor`);
    expect(missing).toEqual([]);
  });

  it('has the same headings, at the same levels, in the same order', () => {
    const pairs = align(
      enOutline.headings,
      zhOutline.headings,
      (a, b) => a.level === b.level && anchorOf(a) === anchorOf(b),
    );
    const problems: string[] = [];
    let lastZh: Heading | undefined;
    for (const { left, right } of pairs) {
      if (left !== undefined && right === undefined) {
        const after = lastZh === undefined ? 'at the top' : `after ${ZH} line ${lastZh.line} ${show(lastZh)}`;
        problems.push(
          `${EN} line ${left.line} ${show(left)} has no translation in ${ZH}: add ` +
            `"${'#'.repeat(left.level)} … <a name="${anchorOf(left)}"></a>" ${after}`,
        );
      } else if (left === undefined && right !== undefined) {
        problems.push(
          `${ZH} line ${right.line} ${show(right)} is not in ${EN} at this place (renamed, moved or removed?)`,
        );
      }
      if (right !== undefined) lastZh = right;
    }
    expect(problems).toEqual([]);
  });

  it('has the same code blocks, byte for byte, in the same order', () => {
    const pairs = align(enOutline.blocks, zhOutline.blocks, (a, b) => a.info === b.info && a.code === b.code);
    const problems: string[] = [];
    pairs.forEach(({ left, right }, i) => {
      const next = pairs[i + 1];
      const previous = pairs[i - 1];
      if (left !== undefined && right === undefined && next?.left === undefined && next?.right?.info === left.info) {
        // One block on each side at the same place: the block was edited; say where it differs.
        problems.push(
          `${EN} line ${left.line} / ${ZH} line ${next.right.line}: the \`\`\`${left.info} block in ` +
            `${sectionOf(enOutline, left.line)} differs: ${firstDifference(left, next.right)}; copy ${EN}'s block byte for byte`,
        );
      } else if (
        left === undefined &&
        right !== undefined &&
        previous?.right === undefined &&
        previous?.left?.info === right.info
      ) {
        // Reported with its English counterpart just above.
      } else if (left !== undefined && right === undefined) {
        problems.push(
          `${EN} line ${left.line}: the \`\`\`${left.info} block in ${sectionOf(enOutline, left.line)} ` +
            `starting "${firstLine(left)}" is not in ${ZH} at this place: copy it byte for byte`,
        );
      } else if (left === undefined && right !== undefined) {
        problems.push(
          `${ZH} line ${right.line}: the \`\`\`${right.info} block in ${sectionOf(zhOutline, right.line)} ` +
            `starting "${firstLine(right)}" is not in ${EN} at this place (changed or removed there?)`,
        );
      }
    });
    expect(problems).toEqual([]);
  });

  it('has the same tables: as many, in the same order, with the same rows and columns', () => {
    const pairs = align(
      enOutline.tables,
      zhOutline.tables,
      (a, b) =>
        sectionOf(enOutline, a.line) === sectionOf(zhOutline, b.line) && a.rows[0]?.length === b.rows[0]?.length,
    );
    const problems = pairs.flatMap(({ left, right }) => {
      if (left !== undefined && right !== undefined) {
        const difference = tableDifference(left, right);
        return difference === undefined ? [] : [`${EN} line ${left.line} / ${ZH} line ${right.line}: ${difference}`];
      }
      if (left !== undefined) {
        return [
          `${EN} line ${left.line}: the table in ${sectionOf(enOutline, left.line)} (${left.rows.length - 2} rows) ` +
            `is not in ${ZH} at this place`,
        ];
      }
      return right === undefined
        ? []
        : [`${ZH} line ${right.line}: the table in ${sectionOf(zhOutline, right.line)} is not in ${EN} at this place`];
    });
    expect(problems).toEqual([]);
  });

  it.each([
    [EN, enOutline],
    [ZH, zhOutline],
  ])('%s: every in-page link reaches a heading or an <a name>', (file, o) => {
    const broken = o.links
      .filter((l) => !o.ids.has(l.anchor))
      .map((l) => `${file} line ${l.line}: link to #${l.anchor} reaches no heading or <a name>`);
    expect(broken).toEqual([]);
  });
});
