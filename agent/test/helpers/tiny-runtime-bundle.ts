/** The tiny runtime as one self-contained .mjs (what the agent uploads to a guest as the runtime bundle). */
import { build } from 'esbuild';
import { TINY_RUNTIME_BIN } from '@wharf/testkit';

let bundle: Promise<Buffer> | undefined;

export function tinyRuntimeBundle(): Promise<Buffer> {
  bundle ??= build({ entryPoints: [TINY_RUNTIME_BIN], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent' }).then((r) =>
    Buffer.from(r.outputFiles[0]!.contents),
  );
  return bundle;
}
