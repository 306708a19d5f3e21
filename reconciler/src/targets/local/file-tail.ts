/**
 * Follows a log file a runtime appends to (its stdout/stderr are files, not pipes, so a runtime adopted after a
 * Wharf restart keeps logging). New lines go to `onLine`; the file is truncated past `maxBytes` so it stays bounded
 * (the runtime opened it with O_APPEND, so its next write lands at the new end).
 */
import { type FSWatcher, watch } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';

export interface FileTail {
  /** Reads what is new now. */
  poll(): Promise<void>;
  close(): Promise<void>;
}

export function tailFile(file: string, onLine: (line: string) => void, options: { maxBytes?: number; intervalMs?: number } = {}): FileTail {
  const maxBytes = options.maxBytes ?? 1_000_000;
  let offset = 0;
  let partial = '';
  let closed = false;
  let reading: Promise<void> = Promise.resolve();

  const readNew = async () => {
    if (closed) return;
    const info = await stat(file).catch(() => undefined);
    if (!info) return;
    if (info.size < offset) offset = 0;
    if (info.size > offset) {
      const handle = await open(file, 'r');
      try {
        const length = Math.min(info.size - offset, 4 * maxBytes);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        offset += bytesRead;
        const text = partial + buffer.subarray(0, bytesRead).toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop() ?? '';
        for (const p of parts) onLine(p);
      } finally {
        await handle.close();
      }
    }
    if (offset > maxBytes) {
      await truncate(file, 0).catch(() => undefined);
      offset = 0;
    }
  };
  const poll = () => {
    reading = reading.then(readNew, readNew);
    return reading;
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(file, () => void poll());
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined;
  }
  const timer = setInterval(() => void poll(), options.intervalMs ?? 1_000);
  timer.unref();
  void poll();
  return {
    poll,
    async close() {
      await poll();
      closed = true;
      clearInterval(timer);
      watcher?.close();
      if (partial) onLine(partial);
      partial = '';
    },
  };
}
