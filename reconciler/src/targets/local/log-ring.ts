/** A bounded per-environment log: the last `capacity` lines, plus followers for `wharf logs --follow`. */
import type { LogLine } from '../target.js';

export interface LogRing {
  push(stream: LogLine['stream'], line: string): void;
  lines(): LogLine[];
  last(n: number): LogLine[];
  follow(fn: (line: LogLine) => void): () => void;
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
    follow(fn) {
      followers.add(fn);
      return () => followers.delete(fn);
    },
  };
}
