/**
 * An isomorphic-git HttpClient that counts what the remote sends and refuses it past the fetch limits, before
 * isomorphic-git sees any of it (isomorphic-git reads a whole response into memory, and without a bound it would
 * read all of it):
 *
 * - ref advertisements (`GET …/info/refs`, protocol v2 `ls-refs`) are read up to `maxAdvertisementBytes`, their refs
 *   counted against `maxAdvertisedRefs`, and only then handed on;
 * - pack responses (`POST …/git-upload-pack`) are streamed to a spool file as they arrive, counting bytes; past
 *   `maxPackBytes` the transfer is cut (the request is aborted, so the remote stops sending) and the spool deleted.
 *   A pack under the limit is handed to isomorphic-git from the spool file.
 *
 * One client per fetch call: `dispose()` deletes its spool files.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { type FetchLimits, PackTooLargeError, RefAdvertisementTooLargeError } from './fetch-limits.js';

export interface BoundedHttpClient extends HttpClient {
  /** Bytes received from the remote by every request of this client so far. */
  received(): number;
  /** Deletes spool files and closes what is still open. */
  dispose(): Promise<void>;
}

export interface BoundedHttpOptions {
  limits: FetchLimits;
  /** The ref being fetched (named in a PackTooLargeError). */
  ref?: string;
  /** Where pack responses are spooled (created on demand). */
  spoolDir: string;
}

const SPOOL_READ_CHUNK = 256 * 1024;

async function collectRequestBody(body: GitHttpRequest['body']): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

async function* once(buf: Buffer): AsyncGenerator<Uint8Array> {
  yield buf;
}

/** Refs in a pkt-line advertisement: data lines that start with an object id and a space. */
export function countAdvertisedRefs(buf: Buffer): number {
  let refs = 0;
  let i = 0;
  while (i + 4 <= buf.length) {
    const len = Number.parseInt(buf.toString('latin1', i, i + 4), 16);
    if (!Number.isFinite(len)) break;
    if (len < 4) {
      i += 4;
      continue;
    }
    if (/^[0-9a-f]{40} /.test(buf.toString('latin1', i + 4, Math.min(i + 45, buf.length)))) refs++;
    i += len;
  }
  return refs;
}

/** A URL for messages: no credentials, no query. */
const shown = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(remote)';
  }
};

export function createBoundedHttpClient(base: HttpClient, options: BoundedHttpOptions): BoundedHttpClient {
  const { limits } = options;
  let received = 0;
  const spools: string[] = [];
  const streams: ReadStream[] = [];

  const readAdvertisement = async (res: GitHttpResponse, repoUrl: string): Promise<GitHttpResponse> => {
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for await (const chunk of res.body ?? []) {
      bytes += chunk.byteLength;
      received += chunk.byteLength;
      // Throwing inside for-await returns the body iterator, which aborts the request.
      if (bytes > limits.maxAdvertisementBytes) throw new RefAdvertisementTooLargeError(repoUrl, { bytes: limits.maxAdvertisementBytes });
      chunks.push(chunk);
    }
    const buf = Buffer.concat(chunks);
    if (res.statusCode === 200 && countAdvertisedRefs(buf) > limits.maxAdvertisedRefs) {
      throw new RefAdvertisementTooLargeError(repoUrl, { refs: limits.maxAdvertisedRefs });
    }
    return { ...res, body: once(buf) };
  };

  const spoolPack = async (res: GitHttpResponse, want: string | undefined, repoUrl: string): Promise<GitHttpResponse> => {
    await mkdir(options.spoolDir, { recursive: true });
    const file = path.join(options.spoolDir, `${randomBytes(8).toString('hex')}.upload-pack`);
    spools.push(file);
    const fh = await open(file, 'wx', 0o600);
    let bytes = 0;
    try {
      for await (const chunk of res.body ?? []) {
        bytes += chunk.byteLength;
        received += chunk.byteLength;
        if (bytes > limits.maxPackBytes) throw new PackTooLargeError(options.ref ?? want ?? repoUrl, limits.maxPackBytes, bytes, want);
        for (let off = 0; off < chunk.byteLength; ) off += (await fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
      }
    } catch (err) {
      await fh.close();
      await rm(file, { force: true });
      throw err;
    }
    await fh.close();
    const stream = createReadStream(file, { highWaterMark: SPOOL_READ_CHUNK });
    streams.push(stream);
    return { ...res, body: stream[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array> };
  };

  return {
    received: () => received,
    async request(req) {
      const payload = await collectRequestBody(req.body);
      const res = await base.request({ ...req, body: payload ? once(payload) : undefined });
      const repoUrl = shown(req.url.replace(/\/(info\/refs|git-upload-pack)(\?.*)?$/, ''));
      const method = (req.method ?? 'GET').toUpperCase();
      const text = payload?.toString('latin1') ?? '';
      const isPack = method === 'POST' && /\/git-upload-pack$/.test(new URL(req.url).pathname) && !text.includes('command=ls-refs');
      if (!isPack || res.statusCode !== 200) return readAdvertisement(res, repoUrl);
      return spoolPack(res, /want ([0-9a-f]{40})/.exec(text)?.[1], repoUrl);
    },
    async dispose() {
      for (const s of streams.splice(0)) s.destroy();
      const files = spools.splice(0);
      await Promise.all(files.map((f) => rm(f, { force: true })));
      if (files.length > 0) await rmdir(options.spoolDir).catch(() => undefined);
    },
  };
}
