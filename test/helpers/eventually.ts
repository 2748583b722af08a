/** Polls `probe` every 100 ms until it returns true, for at most `ms`; resolves whether it did. */
export async function eventually(probe: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
