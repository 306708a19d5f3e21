/** `npm run verify`: type check (tsc -b), lint (eslint + typescript-eslint), generated files fresh. Runs all three, reports all. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { generate } from './generate.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

function run(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.on('close', (code) => resolve(code === 0));
  });
}

const results: [string, boolean][] = [];
results.push(['typecheck (tsc -b)', await run(bin('tsc'), ['-b'])]);
results.push(['lint (eslint)', await run(bin('eslint'), ['.'])]);
const stale = await generate(true);
if (stale.length) console.error(`stale generated files (run \`npm run generate\`): ${stale.join(', ')}`);
results.push(['generated files fresh', stale.length === 0]);
for (const [name, ok] of results) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
