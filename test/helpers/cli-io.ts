/** A CLI's stdout and stderr, captured. */
export function cliIo(): {
  out: string[];
  err: string[];
  io: { stdout: { write(t: string): unknown }; stderr: { write(t: string): unknown } };
} {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
  };
}
