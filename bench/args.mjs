/**
 * What every bench script parses the same way: `--name=value` and `--flag` options, checked
 * against the names the script knows (an unknown one prints the usage and exits 2), and the
 * median of a list.
 */

/** `--a=1 --b` → `{ a: '1', b: true }`; exits 2 with `usage` when a name is not in `known`. */
export function parseArgs(argv, known, usage) {
  const args = Object.fromEntries(
    argv.map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? true];
    }),
  );
  const unknown = Object.keys(args).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    console.error(
      `${usage}\nunknown: ${unknown.map((k) => `--${k}`).join(' ')}; known: ${known.map((k) => `--${k}`).join(' ')}`,
    );
    process.exit(2);
  }
  return args;
}

/** The median (the mean of the two middle values for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
