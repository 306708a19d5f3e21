import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNTIME_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = path.join(RUNTIME_DIR, 'src');
/** The runtime protocol is bundled in from contracts; a change there must rebuild the bundle too. */
const PROTOCOL_FILE = path.join(RUNTIME_DIR, '..', 'packages', 'contracts', 'src', 'runtime-protocol.ts');
/** The runtime as one JavaScript file, so each environment starts with plain `node` (no TypeScript loader). */
export const RUNTIME_BUNDLE = path.join(RUNTIME_DIR, '.build', 'wharf-runtime.mjs');

/**
 * Packages that stay in node_modules: the two WebAssembly ones find their .wasm next to themselves, and the rest
 * are loaded only when a config uses them (pg, cron, jose, bcryptjs), so they cost nothing at start.
 */
export const BUNDLE_EXTERNAL = ['node-sqlite3-wasm', 'jq-wasm', 'pg', 'cron', 'jose', 'bcryptjs', 'esbuild'] as const;

/** Default heap limit (MiB) the launch command gives each runtime: a config cannot grow one past it. */
export const RUNTIME_MAX_OLD_SPACE_MB = 256;

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
 * Bundles a Node program (TypeScript entry and what it imports, packages included unless `external`) into one ES
 * module that plain `node` runs: no TypeScript loader, one file to read and compile. The file is replaced atomically, so
 * a concurrent reader sees the old bundle or the new one, never half of one. Used for the reference runtime (here) and
 * the Kubernetes operator's image (reconciler/src/operator/bundle.ts).
 */
export async function buildNodeBundle(opts: { entry: string; outfile: string; external?: readonly string[] }): Promise<string> {
  const { build } = await import('esbuild');
  await mkdir(path.dirname(opts.outfile), { recursive: true });
  const tmp = `${opts.outfile}.${process.pid}.tmp.mjs`;
  await build({
    entryPoints: [opts.entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...(opts.external ?? [])],
    // CommonJS packages bundled into ESM need a real `require` for Node's built-ins.
    banner: { js: "import { createRequire as __wharfCreateRequire } from 'node:module'; const require = __wharfCreateRequire(import.meta.url);" },
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  await rename(tmp, opts.outfile);
  return opts.outfile;
}

/**
 * Builds RUNTIME_BUNDLE from the sources when it is missing or older than any of them (about 100 ms with esbuild).
 * Its own code and its start-path dependencies (js-yaml, pino, the runtime protocol) are bundled: one file to read
 * and compile instead of packages to resolve (about 20 ms less CPU per start than requiring them). Not minified:
 * minifying measured no faster here and stack traces stay readable.
 */
export async function ensureRuntimeBundle(): Promise<string> {
  const built = existsSync(RUNTIME_BUNDLE) ? (await stat(RUNTIME_BUNDLE)).mtimeMs : 0;
  const protocol = existsSync(PROTOCOL_FILE) ? (await stat(PROTOCOL_FILE)).mtimeMs : 0;
  if (built > Math.max(await newestSource(SRC_DIR), protocol)) return RUNTIME_BUNDLE;
  await buildNodeBundle({ entry: path.join(SRC_DIR, 'bin', 'wharf-runtime.ts'), outfile: RUNTIME_BUNDLE, external: BUNDLE_EXTERNAL });
  return RUNTIME_BUNDLE;
}

/**
 * argv prefix that starts the reference runtime; the target appends `--config … --port …`. The heap limit bounds
 * what one environment's runtime can take from the machine (`--max-old-space-size`; WebAssembly memory is bounded
 * separately: jq's heap stops at 256 MiB).
 */
export async function runtimeLaunchCommand(opts: { maxOldSpaceMb?: number } = {}): Promise<string[]> {
  return [process.execPath, `--max-old-space-size=${opts.maxOldSpaceMb ?? RUNTIME_MAX_OLD_SPACE_MB}`, await ensureRuntimeBundle()];
}
