import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNTIME_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = path.join(RUNTIME_DIR, 'src');
/** The runtime as one JavaScript file, so each environment starts with plain `node` (no TypeScript loader). */
export const RUNTIME_BUNDLE = path.join(RUNTIME_DIR, '.build', 'wharf-runtime.mjs');

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, (await stat(p)).mtimeMs);
  }
  return newest;
}

/**
 * Builds RUNTIME_BUNDLE from the sources when it is missing or older than any of them (about 100 ms with esbuild;
 * dependencies stay in node_modules). Starting the runtime from the bundle saves the TypeScript loader's
 * start-up (about a second on a busy 2-core machine) on every rollout.
 */
export async function ensureRuntimeBundle(): Promise<string> {
  const built = existsSync(RUNTIME_BUNDLE) ? (await stat(RUNTIME_BUNDLE)).mtimeMs : 0;
  if (built > (await newestSource(SRC_DIR))) return RUNTIME_BUNDLE;
  const { build } = await import('esbuild');
  await mkdir(path.dirname(RUNTIME_BUNDLE), { recursive: true });
  const tmp = `${RUNTIME_BUNDLE}.${process.pid}.tmp.mjs`;
  await build({
    entryPoints: [path.join(SRC_DIR, 'bin', 'wharf-runtime.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  // Atomic: a concurrent reader sees the old bundle or the new one, never half of one.
  await rename(tmp, RUNTIME_BUNDLE);
  return RUNTIME_BUNDLE;
}

/** argv prefix that starts the reference runtime; the target appends `--config … --port …`. */
export async function runtimeLaunchCommand(): Promise<string[]> {
  return [process.execPath, '--enable-source-maps', await ensureRuntimeBundle()];
}
