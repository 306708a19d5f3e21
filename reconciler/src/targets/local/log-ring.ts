/**
 * A bounded per-environment log: the last `capacity` lines, and streams of them for `wharf logs [--follow]`: the kept
 * lines first, then new ones as they come. A follower that reads slower than lines arrive loses the oldest it has not
 * read (never more than `capacity` wait for it), so a stalled reader cannot grow memory.
 */
import type { LogLine, LogOptions } from '@wharf/contracts';

export interface LogRing {
  push(stream: LogLine['stream'], line: string): void;
  lines(): LogLine[];
  last(n: number): LogLine[];
  /** Kept lines (the last `tail`), then with `follow` every new line until `signal` aborts. */
  stream(options?: LogOptions): AsyncIterable<LogLine>;
}

export function createLogRing(capacity: number, now: () => Date = () => new Date()): LogRing {
  const buffer: LogLine[] = [];
  const followers = new Set<(line: LogLine) => void>();
  return {
    push(stream, line) {
      const entry: LogLine = { at: now().toISOString(), stream, line };
      buffer.push(entry);
      if (buffer.length > capacity) buffer.splice(0, buffer.length - capacity);
      for (const f of followers) f(entry);
    },
    lines: () => [...buffer],
    last: (n) => buffer.slice(-n),
    async *stream(options = {}) {
      const { follow = false, tail, signal } = options;
      const pending: LogLine[] = [];
      let wake: (() => void) | undefined;
      const onLine = (l: LogLine) => {
        pending.push(l);
        if (pending.length > capacity) pending.shift();
        wake?.();
      };
      const onAbort = () => wake?.();
      // Subscribe before taking the kept lines, so that no line falls between the two.
      if (follow) followers.add(onLine);
      signal?.addEventListener('abort', onAbort);
      try {
        const kept = [...buffer];
        pending.length = 0;
        for (const l of tail === undefined ? kept : kept.slice(-tail)) yield l;
        while (follow && !signal?.aborted) {
          if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          for (let l = pending.shift(); l; l = pending.shift()) yield l;
        }
      } finally {
        followers.delete(onLine);
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
