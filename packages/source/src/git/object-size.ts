/**
 * The size of a Git object without inflating it whole: a file over the size limit is refused before it is read.
 * Loose objects: inflate only the first bytes (the "blob <size>\0" header). Packed objects: find the offset in the
 * pack index (v2), read the entry header (the size of a whole object) or the start of a delta (whose header holds
 * the size of the result).
 */
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

interface PackIndex {
  mtimeMs: number;
  packPath: string;
  fanout: Uint32Array;
  shas: Buffer;
  offsets: Buffer;
  largeOffsets: Buffer;
  count: number;
}

/** Parsed pack indexes by path; reused across calls, re-read when the file changes. */
export type PackIndexCache = Map<string, PackIndex>;

const HEADER_READ = 512;

async function readHead(file: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const inflatePrefix = (data: Buffer): Buffer => inflateSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH });

async function looseSize(gitdir: string, oid: string): Promise<number | undefined> {
  const file = path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
  const head = await readHead(file, 0, HEADER_READ).catch(() => undefined);
  if (!head) return undefined;
  const text = inflatePrefix(head).subarray(0, 64).toString('latin1');
  const m = /^[a-z]+ (\d+)\0/.exec(text);
  return m ? Number(m[1]) : undefined;
}

async function loadIndex(file: string, cache: PackIndexCache, onLoad?: (bytes: number) => void): Promise<PackIndex | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return undefined;
  const cached = cache.get(file);
  if (cached && cached.mtimeMs === info.mtimeMs) return cached;
  const buf = await readFile(file);
  onLoad?.(buf.length);
  // v2: magic ff744f63, version 2, 256 fan-out entries, then shas, crcs, offsets, large offsets.
  if (buf.readUInt32BE(0) !== 0xff744f63 || buf.readUInt32BE(4) !== 2) return undefined;
  const fanout = new Uint32Array(256);
  for (let i = 0; i < 256; i++) fanout[i] = buf.readUInt32BE(8 + i * 4);
  const count = fanout[255];
  const shaStart = 8 + 256 * 4;
  const offStart = shaStart + count * 20 + count * 4;
  const index: PackIndex = {
    mtimeMs: info.mtimeMs,
    packPath: file.replace(/\.idx$/, '.pack'),
    fanout,
    count,
    shas: buf.subarray(shaStart, shaStart + count * 20),
    offsets: buf.subarray(offStart, offStart + count * 4),
    largeOffsets: buf.subarray(offStart + count * 4),
  };
  cache.set(file, index);
  return index;
}

function findOffset(index: PackIndex, oid: Buffer): number | undefined {
  const first = oid[0];
  let lo = first === 0 ? 0 : index.fanout[first - 1];
  let hi = index.fanout[first];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = index.shas.compare(oid, 0, 20, mid * 20, mid * 20 + 20);
    if (cmp === 0) {
      const off = index.offsets.readUInt32BE(mid * 4);
      if (off & 0x80000000) return Number(index.largeOffsets.readBigUInt64BE((off & 0x7fffffff) * 8));
      return off;
    }
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

function readVarint(buf: Buffer, start: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let i = start;
  for (;;) {
    const b = buf[i++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return { value, next: i };
  }
}

async function packedSize(index: PackIndex, oid: string): Promise<number | undefined> {
  const offset = findOffset(index, Buffer.from(oid, 'hex'));
  if (offset === undefined) return undefined;
  const head = await readHead(index.packPath, offset, HEADER_READ);
  let i = 0;
  let b = head[i++];
  const type = (b >> 4) & 7;
  let size = b & 0x0f;
  let shift = 4;
  while (b & 0x80) {
    b = head[i++];
    size += (b & 0x7f) * 2 ** shift;
    shift += 7;
  }
  if (type >= 1 && type <= 4) return size;
  if (type === 6) {
    // OFS_DELTA: a big-endian varint offset to the base, then the compressed delta.
    do b = head[i++];
    while (b & 0x80);
  } else if (type === 7) {
    i += 20; // REF_DELTA: the base's oid.
  } else {
    return undefined;
  }
  const delta = inflatePrefix(head.subarray(i));
  const source = readVarint(delta, 0);
  return readVarint(delta, source.next).value;
}

/**
 * The object's size in bytes, or undefined when it is in neither a loose file nor a local pack. `onLoad` is told the
 * bytes of every pack index parsed into `cache` (see object-cache.ts).
 */
export async function objectSize(
  gitdir: string,
  oid: string,
  cache: PackIndexCache,
  onLoad?: (bytes: number) => void,
): Promise<number | undefined> {
  const loose = await looseSize(gitdir, oid).catch(() => undefined);
  if (loose !== undefined) return loose;
  const packDir = path.join(gitdir, 'objects', 'pack');
  const names = (await readdir(packDir).catch(() => [] as string[])).filter((n) => n.endsWith('.idx'));
  for (const name of names) {
    const index = await loadIndex(path.join(packDir, name), cache, onLoad).catch(() => undefined);
    if (!index) continue;
    const size = await packedSize(index, oid).catch(() => undefined);
    if (size !== undefined) return size;
  }
  return undefined;
}
