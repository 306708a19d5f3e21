/**
 * A tiny stand-in for the reference runtime with the same command-line contract:
 *   node --import tsx tiny-runtime.ts --config FILE… --port N --data-dir DIR --digest X
 * It prints `listening http://127.0.0.1:PORT`, serves RUNTIME_HEALTH_PATH → {status, digest} and answers every other path
 * with the `echo:` value found in its config files, the digest and the path.
 *
 * Knobs for tests, from the environment (the local target passes the WorkflowApp's env vars through):
 *   TINY_RUNTIME_MODE=never-healthy   the health path answers 503 forever
 *   TINY_RUNTIME_MODE=exit-on-start   exits with code 3 before listening
 *   TINY_RUNTIME_CRASH_AFTER_MS=N     exits with code 1 after N ms
 *   TINY_RUNTIME_START_DELAY_MS=N     waits N ms before listening
 *   TINY_RUNTIME_CHILD=1              also starts a child process (to prove teardown kills the whole tree)
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_HEALTH_PATH } from '@wharf/contracts/runtime-protocol';

export const TINY_RUNTIME_BIN = fileURLToPath(import.meta.url);

/** argv prefix that starts the tiny runtime; the local target appends --config/--port/--data-dir/--digest. */
export const tinyRuntimeCommand = (): string[] => [process.execPath, '--import', import.meta.resolve('tsx'), TINY_RUNTIME_BIN];

interface Args {
  configs: string[];
  port: number;
  dataDir: string | undefined;
  digest: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { configs: [], port: 0, dataDir: undefined, digest: '' };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1] ?? '';
    switch (argv[i]) {
      case '--config':
        args.configs.push(v);
        i++;
        break;
      case '--port':
        args.port = Number.parseInt(v, 10);
        i++;
        break;
      case '--data-dir':
        args.dataDir = v;
        i++;
        break;
      case '--digest':
        args.digest = v;
        i++;
        break;
    }
  }
  return args;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const env = process.env;
  const mode = env.TINY_RUNTIME_MODE ?? '';
  const echo = args.configs
    .map((f) => /^\s*#?\s*echo:\s*(.*)$/m.exec(readFileSync(f, 'utf8'))?.[1]?.trim())
    .find((v) => v !== undefined) ?? '';
  console.error(`tiny runtime starting: ${args.configs.length} config file(s), digest ${args.digest}`);
  if (mode === 'exit-on-start') {
    console.error('tiny runtime: exiting on start as asked');
    process.exit(3);
  }
  if (env.TINY_RUNTIME_CHILD === '1') {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    if (args.dataDir && child.pid) writeFileSync(path.join(args.dataDir, 'child.pid'), String(child.pid));
  }
  const server = createServer((req, res) => {
    if (req.url === RUNTIME_HEALTH_PATH) {
      const healthy = mode !== 'never-healthy';
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: healthy ? 'ok' : 'starting', digest: args.digest }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ echo, digest: args.digest, path: req.url, pid: process.pid }));
  });
  const listen = () =>
    server.listen(args.port, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : args.port;
      console.log(`listening http://127.0.0.1:${port}`);
    });
  const delay = Number.parseInt(env.TINY_RUNTIME_START_DELAY_MS ?? '0', 10);
  if (delay > 0) setTimeout(listen, delay);
  else listen();
  const crashAfter = Number.parseInt(env.TINY_RUNTIME_CRASH_AFTER_MS ?? '0', 10);
  if (crashAfter > 0) {
    setTimeout(() => {
      console.error('tiny runtime: crashing on purpose');
      process.exit(1);
    }, crashAfter);
  }
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === TINY_RUNTIME_BIN) main();
