import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/** Thrown when a jq run is stopped: its pipeline's deadline passed (the worker running it is terminated). */
export class JqStoppedError extends Error {
  override readonly name = 'JqStoppedError';
}

// The worker: the real jq 1.7 compiled to WebAssembly (jq-wasm; its heap stops at 256 MiB, it sees no files and no
// environment). One filter at a time; after a jq error the instance is replaced, since a failed run leaves its
// memory unusable. Output beyond the limit is an error rather than a message the main thread has to hold.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const factory = require(workerData.jqPath);
let jq = null;
parentPort.on('message', async ({ id, input, filter }) => {
  try {
    jq ??= await factory();
    const text = await jq.raw(input, filter, ['-c']);
    if (text.length > workerData.maxOutput) throw new Error('jq: output larger than ' + workerData.maxOutput + ' characters');
    parentPort.postMessage({ id, text });
  } catch (err) {
    jq = null;
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

export type JqRunOptions = {
  /** Aborting terminates the worker mid-run (a filter that never ends cannot hold the runtime). */
  readonly signal?: AbortSignal;
  /** Longest this run may take, in ms (default: no limit beyond the signal). */
  readonly timeoutMs?: number;
};

/**
 * Runs jq filters in a worker thread that can be terminated, so an endless filter (`repeat(1)`, `def f: f; f`) is
 * stopped at its pipeline's deadline instead of blocking the event loop. The worker starts on first use.
 */
export function createJqRunner(opts: { maxOutputChars: number; heapMb: number }) {
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
  let queue: Promise<unknown> = Promise.resolve();

  function failAll(err: Error) {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  }

  function start(): Worker {
    if (worker) return worker;
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      env: {},
      workerData: { jqPath: require.resolve('jq-wasm/dist/build/jq.js'), maxOutput: opts.maxOutputChars },
      resourceLimits: { maxOldGenerationSizeMb: opts.heapMb, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    w.unref();
    w.on('message', (m: { id: number; text?: string; error?: string }) => {
      const entry = waiting.get(m.id);
      if (!entry) return;
      waiting.delete(m.id);
      if (m.error !== undefined) {
        const message = m.error.replace(/\s+/g, ' ').trim();
        entry.reject(new Error(message.startsWith('jq:') ? message : `jq: ${message}`));
      } else entry.resolve(m.text ?? '');
    });
    w.on('error', (err) => {
      if (worker === w) worker = null;
      failAll(new Error(`jq: ${err.message}`));
    });
    w.on('exit', () => {
      if (worker === w) worker = null;
      failAll(new Error('jq: the jq worker stopped'));
    });
    worker = w;
    return w;
  }

  function runOnce(input: string, filter: string, run: JqRunOptions): Promise<string> {
    if (run.signal?.aborted) return Promise.reject(new JqStoppedError('jq: stopped before it ran (pipeline deadline)'));
    const w = start();
    const id = nextId++;
    return new Promise<string>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const stop = (why: string) => {
        if (!waiting.has(id)) return;
        waiting.delete(id);
        if (worker === w) worker = null;
        void w.terminate();
        reject(new JqStoppedError(why));
      };
      const onAbort = () => stop('jq: stopped at the pipeline deadline');
      const cleanup = () => {
        clearTimeout(timer);
        run.signal?.removeEventListener('abort', onAbort);
      };
      waiting.set(id, {
        resolve: (t) => {
          cleanup();
          resolve(t);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      });
      run.signal?.addEventListener('abort', onAbort, { once: true });
      if (run.timeoutMs !== undefined) timer = setTimeout(() => stop(`jq: stopped after ${run.timeoutMs} ms`), run.timeoutMs);
      w.postMessage({ id, input, filter });
    });
  }

  const runner = {
    /**
     * A compile error message for `filter`, or null when jq accepts it. The filter is compiled, never run
     * (`if false then (…) else empty end`), so an endless filter cannot stall the start.
     */
    async check(filter: string, timeoutMs = 10_000): Promise<string | null> {
      try {
        await runner.raw('null', `if false then (\n${filter}\n) else empty end`, { timeoutMs });
        return null;
      } catch (err) {
        const message = (err as Error).message;
        if (err instanceof JqStoppedError) return `jq did not compile the expression within ${timeoutMs} ms`;
        // The expression starts on the wrapper's second line: report jq's line numbers as the author wrote them.
        return /compile error|syntax error/.test(message) ? message.replace(/line (\d+)/g, (_m, n: string) => `line ${Math.max(1, Number(n) - 1)}`) : null;
      }
    },
    /** jq's compact output for `filter` over the JSON text `input`; runs are serialized. */
    raw(input: string, filter: string, run: JqRunOptions = {}): Promise<string> {
      const p = queue.then(() => runOnce(input, filter, run));
      queue = p.catch(() => undefined);
      return p;
    },
    /** Every output of `filter` applied to `input`, in order. */
    async run(input: unknown, filter: string, run: JqRunOptions = {}): Promise<unknown[]> {
      const text = await runner.raw(JSON.stringify(input ?? null), filter, run);
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l));
    },
    /** Starts the worker ahead of the first run (used at start when the config has jq steps). */
    warm(): void {
      start();
    },
    async close(): Promise<void> {
      const w = worker;
      worker = null;
      failAll(new JqStoppedError('jq: the runtime is shutting down'));
      if (w) await w.terminate();
    },
  };
  return runner;
}

export type JqRunner = ReturnType<typeof createJqRunner>;
