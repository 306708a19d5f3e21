import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The data dir's folder the runtime keeps for itself; no config path may point into it. */
export const RUNTIME_STATE_DIR = '.wharf-runtime';
const KEEP = 4;

/**
 * Parsed configs, keyed by the SHA-256 of the file's text, kept in the data dir. A runtime that starts again on the
 * same version (a crash restart, a restart of Wharf, a rollback to a recent version) reads its configs as JSON
 * (about 1 ms) instead of parsing YAML again (about 50 ms of CPU for a 50-pipeline config, cold). The key is the
 * content, so a changed file is never answered from the cache; an unreadable entry is a miss.
 */
export type ParsedConfigCache = {
  /** The document parsed earlier from exactly this text, or undefined. */
  read(text: string): unknown;
  /** Remembers a document parsed during this start; flush() writes it. */
  remember(text: string, doc: unknown): void;
  /** Writes what was remembered and keeps the newest entries (run after the runtime listens). */
  flush(): void;
};

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

export function createParsedConfigCache(dataDir: string | null): ParsedConfigCache {
  const dir = dataDir ? join(dataDir, RUNTIME_STATE_DIR, 'configs') : null;
  const pending = new Map<string, unknown>();
  return {
    read(text) {
      if (!dir) return undefined;
      try {
        return JSON.parse(readFileSync(join(dir, `${digest(text)}.json`), 'utf8'));
      } catch {
        return undefined;
      }
    },
    remember(text, doc) {
      if (dir) pending.set(digest(text), doc);
    },
    flush() {
      if (!dir || !pending.size) return;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        for (const [key, doc] of pending) writeFileSync(join(dir, `${key}.json`), JSON.stringify(doc), { mode: 0o600 });
        pending.clear();
        const entries = readdirSync(dir)
          .map((name) => ({ name, mtime: statSync(join(dir, name)).mtimeMs }))
          .sort((a, b) => b.mtime - a.mtime);
        for (const old of entries.slice(KEEP)) rmSync(join(dir, old.name), { force: true });
      } catch {
        // a cache that cannot be written only costs the next start its YAML parse
      }
    },
  };
}
