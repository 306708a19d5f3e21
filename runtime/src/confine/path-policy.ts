import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Where a runtime may read and write: its config directory (read only) and its data directory. Every path a
 * config names is checked here before anything opens it: absolute paths, `..` escapes, NUL bytes and symlinks
 * that lead outside (real paths are compared, so a link inside the config dir to /etc is refused) are refused
 * with the file, module and key that named them.
 */
export type PathPolicy = {
  /** Real paths of the config roots (the `--config-root`, or each config file's directory). */
  readonly configRoots: readonly string[];
  /** Real path of the data dir, or null when the runtime has none (SQLite then lives in memory). */
  readonly dataDir: string | null;
  /** A file or directory a config reads: relative to `baseDir` (the config file's directory), inside a config root or the data dir. */
  readable(raw: string, baseDir: string, where: string): string;
  /** A file the runtime writes (a SQLite database): relative to the data dir and inside it. */
  writable(raw: string, where: string): string;
};

export class PathEscapeError extends Error {
  override readonly name = 'PathEscapeError';
}

/** `child` is `root` or below it (both absolute, normalized). */
export function isInside(child: string, root: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The real path of `p`, resolving symlinks of the part that exists (a file that is yet to be created is fine). */
export function realPathOf(p: string): string {
  const missing: string[] = [];
  let cur = resolve(p);
  for (;;) {
    try {
      const real = realpathSync(cur);
      return missing.length ? join(real, ...missing.reverse()) : real;
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return resolve(p);
      missing.push(basename(cur));
      cur = parent;
    }
  }
}

/** Refuses what is never a relative path inside the environment, whatever it resolves to. */
export function checkRawPath(raw: string, where: string): void {
  if (raw.includes('\0')) throw new PathEscapeError(`${where}: the path contains a NUL byte`);
  if (isAbsolute(raw) || /^[A-Za-z]:[\\/]/.test(raw) || raw.startsWith('\\\\') || raw.startsWith('~'))
    throw new PathEscapeError(`${where}: "${raw}" is an absolute path; paths are relative to the environment's own directories`);
  if (raw.includes('\\')) throw new PathEscapeError(`${where}: "${raw}" contains a backslash; use / between path segments`);
}

export function createPathPolicy(opts: { configFiles: readonly string[]; configRoot: string | null; dataDir: string | null }): PathPolicy {
  const roots = opts.configRoot ? [opts.configRoot] : [...new Set(opts.configFiles.map((f) => dirname(resolve(f))))];
  const configRoots = roots.map((r) => realPathOf(r));
  let dataDir: string | null = null;
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    dataDir = realPathOf(opts.dataDir);
  }
  const allowedRead = dataDir ? [...configRoots, dataDir] : configRoots;
  const describeRoots = (list: readonly string[]) => list.map((r) => `"${r}"`).join(' or ');

  function confine(raw: string, base: string, allowed: readonly string[], where: string): string {
    checkRawPath(raw, where);
    const lexical = resolve(base, raw);
    if (!allowed.some((r) => isInside(lexical, r)))
      throw new PathEscapeError(`${where}: "${raw}" leaves the environment's directories (${describeRoots(allowed)})`);
    const real = realPathOf(lexical);
    if (!allowed.some((r) => isInside(real, r)))
      throw new PathEscapeError(`${where}: "${raw}" leads through a symlink to "${real}", outside the environment's directories`);
    return real;
  }

  return {
    configRoots,
    dataDir,
    readable(raw, baseDir, where) {
      return confine(raw, realPathOf(baseDir), allowedRead, where);
    },
    writable(raw, where) {
      if (!dataDir) {
        checkRawPath(raw, where);
        throw new PathEscapeError(`${where}: a database file needs --data-dir`);
      }
      return confine(raw, dataDir, [dataDir], where);
    },
  };
}

/** Every config file must be inside the config root when one is given. */
export function checkConfigFiles(files: readonly string[], policy: PathPolicy): string[] {
  return files
    .filter((f) => existsSync(f) && !policy.configRoots.some((r) => isInside(realPathOf(f), r)))
    .map((f) => `${f}: the config file is outside --config-root ${policy.configRoots.join(', ')}`);
}
