/** Polls `done` every 50 ms until it holds; resolves with the milliseconds that took, fails after `withinMs`. */
export async function within(what: string, withinMs: number, done: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}
