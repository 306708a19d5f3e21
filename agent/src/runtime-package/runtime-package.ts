/**
 * The runtime a guest runs: Wharf's reference runtime (@wharf/runtime) as one esbuild bundle (runtime.mjs) with every
 * pure-JavaScript dependency inside, plus the two WebAssembly packages it loads from beside itself
 * (node_modules/node-sqlite3-wasm, node_modules/jq-wasm), about 4 MB in all. A guest needs only `node` (20 or newer).
 * The agent uploads it once per guest (~/wharf/runtimes/<id>/) and every release of every environment there uses it.
 *
 * Built by the agent at start (about a second), or read from a directory built earlier with the same layout
 * (`wharf agent build-runtime --out DIR`, for hosts that should not build).
 */
import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { UploadFile } from '../deploy/upload-atomic.js';

export interface RuntimePackage {
  /** runtime.mjs */
  bundle: Buffer;
  /** node_modules/<package>/… */
  support: UploadFile[];
}

/** Packages the bundle loads from node_modules beside itself: they find their .wasm next to their own files. */
export const RUNTIME_WASM_PACKAGES = ['node-sqlite3-wasm', 'jq-wasm'] as const;

async function filesUnder(dir: string, prefix: string): Promise<UploadFile[]> {
  const out: UploadFile[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await filesUnder(full, rel)));
    else if (entry.isFile() && !/\.(d\.ts|md|map)$/.test(entry.name)) out.push({ path: rel, content: await readFile(full) });
  }
  return out;
}

/** Builds the package from the runtime's sources (esbuild). */
export async function buildRuntimePackage(): Promise<RuntimePackage> {
  const [{ build }, runtime] = await Promise.all([import('esbuild'), import('@wharf/runtime')]);
  const result = await build({
    entryPoints: [runtime.RUNTIME_BIN],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    external: [...RUNTIME_WASM_PACKAGES, 'esbuild'],
    // CommonJS packages bundled into ESM need a real `require` for Node's built-ins.
    banner: { js: "import { createRequire as __wharfCreateRequire } from 'node:module'; const require = __wharfCreateRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'silent',
  });
  const bundle = Buffer.from(result.outputFiles[0]!.contents);
  const resolveFrom = createRequire(runtime.RUNTIME_BIN);
  const support: UploadFile[] = [];
  for (const pkg of RUNTIME_WASM_PACKAGES) {
    const dir = path.dirname(resolveFrom.resolve(`${pkg}/package.json`));
    support.push(...(await filesUnder(dir, `node_modules/${pkg}`)));
  }
  return { bundle, support };
}

/** Reads a package written by `writeRuntimePackage` (or laid out the same way by hand). */
export async function readRuntimePackage(dir: string): Promise<RuntimePackage> {
  const bundle = await readFile(path.join(dir, 'runtime.mjs'));
  const support = await filesUnder(path.join(dir, 'node_modules'), 'node_modules').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  return { bundle, support };
}

export async function writeRuntimePackage(pkg: RuntimePackage, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'runtime.mjs'), pkg.bundle);
  for (const f of pkg.support) {
    await mkdir(path.dirname(path.join(dir, f.path)), { recursive: true });
    await writeFile(path.join(dir, f.path), f.content);
  }
}
