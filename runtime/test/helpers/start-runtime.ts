import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { runtimeCommand } from '../../src/index.js';

export type RuntimeProcess = {
  readonly url: string;
  readonly proc: ChildProcess;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
};

/** Spawns `wharf-runtime` as a real process and waits for its "listening URL" line. */
export async function startRuntime(args: readonly string[], env: Record<string, string> = {}): Promise<RuntimeProcess> {
  const { command, args: base } = runtimeCommand({ configFiles: [] });
  const proc = spawn(command, [...base, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  proc.stderr?.on('data', (d) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runtime did not start in time:\n${err}`)), 20_000);
    proc.stdout?.on('data', (d) => {
      out += d;
      const m = /^listening (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code} before listening:\n${err}`));
    });
  });
  return {
    url,
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Runs the runtime expecting it to refuse to start; resolves with its exit code and stderr. */
export async function runRefusing(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const { command, args: base } = runtimeCommand({ configFiles: [] });
  const proc = spawn(command, [...base, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  let stdout = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  proc.stdout.on('data', (d) => {
    stdout += d;
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr, stdout };
}

/** A parsed JSON answer, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test answers are asserted field by field
export type Json = any;

/** fetch + JSON body. */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; body: Json; headers: Headers; text: string }> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers, text };
}

/** Waits (up to 5 s) until the runtime's stderr matches, since log lines may arrive after the HTTP answer. */
export async function stderrMatching(rt: RuntimeProcess, re: RegExp): Promise<string> {
  for (let i = 0; i < 100 && !re.test(rt.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
  return rt.stderr();
}
