import type { IncomingMessage } from 'node:http';

export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the request body up to `limit` bytes (413 past it) and parses JSON (400 when malformed) or forms. */
export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyError(413, 'request body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop buffering but leave the socket alone, so the 413 can still be written.
        req.off('data', onData);
        req.resume();
        reject(new BodyError(413, 'request body too large'));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', resolve);
    req.once('error', reject);
    // A client that goes away mid-body never sends 'end'.
    req.once('close', () => {
      if (!req.complete) reject(new BodyError(400, 'request aborted'));
    });
  });
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks, size).toString('utf8');
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  if (text.trim() === '') return undefined;
  const isJson = type.includes('json');
  try {
    return JSON.parse(text);
  } catch (err) {
    if (isJson) throw new BodyError(400, `malformed JSON body: ${(err as Error).message}`);
    return text;
  }
}
