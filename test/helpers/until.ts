/**
 * Polls `probe` until it returns a value (anything but undefined, null or false) and returns that
 * value; fails naming `what` after `timeoutMs`. A probe that throws counts as "not yet" (the
 * coordinator may be restarting), and the last error is in the failure's message.
 */
export async function until<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (thrown) {
      lastError = String(thrown);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `gave up waiting for ${what} after ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
