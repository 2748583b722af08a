// The README is part of the API: every `js`/`ts` block in it is type-checked under `strict`
// against the installed package, and the "Testing your app" example is run with jest.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The fenced `js`/`javascript`/`ts`/`typescript` blocks of a Markdown text, with their language and line. */
export function codeBlocks(markdown) {
  const blocks = [];
  const fence = /^```([A-Za-z]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(markdown); m !== null; m = fence.exec(markdown)) {
    const lang = m[1].toLowerCase();
    const kind =
      lang === 'js' || lang === 'javascript' ? 'js' : lang === 'ts' || lang === 'typescript' ? 'ts' : undefined;
    if (kind !== undefined) blocks.push({ kind, code: m[2], line: markdown.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

/** The block that shows a user's own test: the one that starts with `// profile.test.js`. */
export function testingExample(blocks) {
  const found = blocks.filter((b) => b.code.startsWith('// profile.test.js'));
  if (found.length !== 1) throw new Error(`README: expected one "// profile.test.js" block, found ${found.length}`);
  return found[0];
}

/**
 * Writes each block to its own module in `dir` plus a tsconfig that checks them all (strict,
 * checkJs) against what is installed there. Fragments may use an `app` (an Express app), declared
 * once, ambiently. Returns the tsconfig path.
 */
export function writeReadmeProject(root, dir) {
  const blocks = codeBlocks(readFileSync(path.join(root, 'README.md'), 'utf8'));
  if (blocks.length < 5) throw new Error(`README: only ${blocks.length} code blocks found`);
  const files = ['readme-globals.d.ts'];
  writeFileSync(path.join(dir, 'readme-globals.d.ts'), `declare const app: import('express').Express;\n`);
  blocks.forEach((b, i) => {
    const file = `readme-${String(i).padStart(2, '0')}-line${b.line}.${b.kind}`;
    writeFileSync(path.join(dir, file), b.code);
    files.push(file);
  });
  writeFileSync(path.join(dir, 'profile.test.js'), testingExample(blocks).code);
  const tsconfig = path.join(dir, 'tsconfig.readme.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        allowJs: true,
        checkJs: true,
        module: 'node16',
        moduleResolution: 'node16',
        moduleDetection: 'force',
        esModuleInterop: true,
        // The NestJS recipe uses Nest's (legacy) decorators; no other block has decorators.
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        types: ['node', 'jest'],
      },
      files,
    }),
  );
  return { tsconfig, count: blocks.length };
}
