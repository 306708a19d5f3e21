/**
 * A response body read to at most `max` bytes, for every place Wharf reads an answer it does not trust the size of
 * (a runtime's health and metrics, the control plane's answers to an agent, an app's outbound HTTP call). A declared
 * `content-length` over the limit is refused before reading; otherwise the stream is cut at the limit. Imports
 * nothing (the reference runtime bundles it through `@wharf/contracts/bounded-body`).
 */
export async function readBodyAtMost(res: Response, max: number): Promise<string | null> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}
