import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const WHARF_BIN = path.join(REPO_ROOT, 'cli/src/bin/wharf.ts');
/** tsx's loader as an absolute URL, so `node --import` finds it whatever the child's working directory. */
export const TSX_LOADER = import.meta.resolve('tsx');

export interface RunningProcess {
  child: ChildProcess;
  /** Everything printed so far on stdout and stderr. */
  output: () => string;
  /** Resolves with the first match of `pattern` in the output; rejects on exit or after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `wharf <args>` as a real process (through tsx, as `npm start` does). */
export function startWharf(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): RunningProcess {
  return startTsProcess(WHARF_BIN, args, { cwd: options.cwd, env: { WHARF_LOG_FILE: '-', WHARF_LOG_LEVEL: 'warn', ...options.env } });
}

/** Starts a TypeScript entry point (a deployable's main.ts) as a real process, with no DATABASE_URL unless given. */
export function startTsProcess(script: string, args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): RunningProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, script, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: undefined, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = out.match(pattern);
        if (m) {
          cleanup();
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${pattern}; output:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      void exited.then(() => {
        if (!out.match(pattern)) {
          cleanup();
          reject(new Error(`process exited before ${pattern}; output:\n${out}`));
        }
      });
      check();
    });
  return { child, output: () => out, waitFor, exited };
}
