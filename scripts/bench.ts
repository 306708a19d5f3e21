/** `npm run bench -- <name> [args…]` runs bench/<name>.ts; `npm run bench` lists them. */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const [name, ...args] = process.argv.slice(2);
const available = (await readdir(path.join(ROOT, 'bench'))).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  console.error(`${name ? `no benchmark '${name}'. ` : ''}usage: npm run bench -- <name>\navailable: ${available.sort().join(', ')}`);
  process.exit(2);
}
const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', `${name}.ts`), ...args], { cwd: ROOT, stdio: 'inherit' });
child.on('close', (code) => process.exit(code ?? 1));
