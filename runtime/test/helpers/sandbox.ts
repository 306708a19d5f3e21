import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/** What a scan records per path outside the environment: enough to see a write (content, size, mtime) or a read (atime). */
type Entry = { kind: 'file' | 'dir' | 'link'; size: number; mtimeMs: number; atimeMs: number; sha256?: string; target?: string };
export type Snapshot = Map<string, Entry>;

const OLD = new Date('2000-01-01T00:00:00Z');

/**
 * A throwaway host for one hostile config: `env/config` (the environment's config dir), `env/data` (its data dir),
 * and around them what an attacker wants: `github-app.pem` (Wharf's private key, at ../../ from the config dir, as
 * in .wharf/), `outside/canary.txt`, and `outside/other-env.db`. Every file outside `env/` gets an atime and mtime
 * in the year 2000, so that reading it (relatime updates an atime older than a day) or writing it shows.
 */
export type Sandbox = {
  readonly base: string;
  readonly configDir: string;
  readonly dataDir: string;
  readonly outside: string;
  readonly pem: string;
  readonly canary: string;
  /** Writes a file under the base (relative path), creating folders. */
  write(rel: string, content: string): string;
  symlink(target: string, rel: string): string;
  /** Gives every file outside env/ the year-2000 times (call after writing files there, before the snapshot). */
  seal(): void;
  snapshot(): Snapshot;
  /** Paths outside env/ that appeared, vanished, or whose content, size, mtime or atime changed. */
  changes(before: Snapshot): string[];
  /** Whether this filesystem records reads at all (it does with relatime; not with noatime). */
  readonly atimeWorks: boolean;
  remove(): void;
};

function probeAtime(dir: string): boolean {
  const f = join(dir, '.atime-probe');
  writeFileSync(f, 'x');
  utimesSync(f, OLD, OLD);
  readFileSync(f);
  const works = lstatSync(f).atimeMs !== OLD.getTime();
  rmSync(f);
  return works;
}

export function createSandbox(): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'wharf-hostile-'));
  const configDir = join(base, 'env', 'config');
  const dataDir = join(base, 'env', 'data');
  const outside = join(base, 'outside');
  for (const d of [configDir, dataDir, outside]) mkdirSync(d, { recursive: true });
  const write = (rel: string, content: string) => {
    const p = join(base, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    return p;
  };
  const pem = write('github-app.pem', '-----BEGIN RSA PRIVATE KEY-----\nMIIEhostile-test-key\n-----END RSA PRIVATE KEY-----\n');
  const canary = write('outside/canary.txt', 'canary: nobody reads or writes me\n');
  write('outside/other-env.db', 'SQLite format 3\0another environment');
  for (const p of [pem, canary, join(outside, 'other-env.db'), outside]) utimesSync(p, OLD, OLD);
  const atimeWorks = probeAtime(outside);
  utimesSync(outside, OLD, OLD);

  function scan(): Snapshot {
    const out: Snapshot = new Map();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        const rel = relative(base, p);
        if (rel === 'env') continue;
        const st = lstatSync(p);
        if (st.isSymbolicLink()) out.set(rel, { kind: 'link', size: st.size, mtimeMs: st.mtimeMs, atimeMs: 0, target: readlinkSync(p) });
        else if (st.isDirectory()) {
          out.set(rel, { kind: 'dir', size: 0, mtimeMs: st.mtimeMs, atimeMs: 0 });
          walk(p);
        } else {
          const sha256 = createHash('sha256').update(readFileSync(p)).digest('hex');
          // Hashing read the file: put back the times it had (sealed files have whole-second times, kept exactly).
          utimesSync(p, st.atime, st.mtime);
          out.set(rel, { kind: 'file', size: st.size, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs, sha256 });
        }
      }
    };
    walk(base);
    return out;
  }

  return {
    base,
    configDir,
    dataDir,
    outside,
    pem,
    canary,
    write,
    symlink(target, rel) {
      const p = join(base, rel);
      mkdirSync(dirname(p), { recursive: true });
      symlinkSync(target, p);
      return p;
    },
    seal() {
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const p = join(dir, name);
          if (relative(base, p) === 'env') continue;
          const st = lstatSync(p);
          if (st.isSymbolicLink()) continue;
          if (st.isDirectory()) walk(p);
          utimesSync(p, OLD, OLD);
        }
      };
      walk(base);
    },
    snapshot: scan,
    changes(before) {
      const after = scan();
      const changed: string[] = [];
      for (const [p, e] of before) {
        const now = after.get(p);
        if (!now) changed.push(`${p} vanished`);
        else if (now.sha256 !== e.sha256 || now.size !== e.size || now.mtimeMs !== e.mtimeMs) changed.push(`${p} was written`);
        else if (atimeWorks && now.atimeMs !== e.atimeMs) changed.push(`${p} was read`);
      }
      for (const p of after.keys()) if (!before.has(p)) changed.push(`${p} appeared`);
      return changed;
    },
    atimeWorks,
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}
