/**
 * Waits until `check` answers something other than undefined, checking the state every few
 * milliseconds; fails with `what` when `timeoutMs` passes first. For state that has no event
 * (a row in a store, a counter), never as a fixed sleep.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
