/**
 * The operator as one JavaScript file that plain `node` runs, for the control-plane image (its bundle stage runs this
 * file) and for benchmarks that measure the operator as the chart starts it:
 *   node --import tsx reconciler/src/operator/bundle.ts [outfile]
 *
 * Why: through the tsx loader the operator's process holds about 245 MB before it has done anything (the loader's
 * compile cache and source maps for every module of @kubernetes/client-node); the bundle starts at about 87 MB, in a
 * fifth of the time. Build-time only: the operator never imports this module, and @wharf/runtime (which owns the
 * esbuild set-up) is not one of its dependencies at run time.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Where the image and the benches keep the bundle (git-ignored, like the runtime's). */
export const OPERATOR_BUNDLE = path.resolve(HERE, '..', '..', '.build', 'wharf-operator.mjs');
const OPERATOR_MAIN = path.join(HERE, 'main.ts');

/** Builds the operator's bundle (about a second with esbuild); returns its path. */
export async function buildOperatorBundle(outfile: string = OPERATOR_BUNDLE): Promise<string> {
  const { buildNodeBundle } = await import('@wharf/runtime');
  return buildNodeBundle({ entry: OPERATOR_MAIN, outfile });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(await buildOperatorBundle(process.argv[2] ? path.resolve(process.argv[2]) : undefined));
}
