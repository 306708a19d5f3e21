import { Worker } from 'node:worker_threads';

// Runs beside the main thread: when the main thread has not beaten for `stallMs`, a step is stuck in code that
// cannot be interrupted (an endless SQL query: this SQLite build has no progress callback), so the process ends
// with a log line and the target restarts it. SIGKILL, because a stuck thread never runs signal handlers.
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const beat = new BigInt64Array(workerData.shared);
setInterval(() => {
  const stalled = Date.now() - Number(Atomics.load(beat, 0));
  if (stalled <= workerData.stallMs) return;
  const line = JSON.stringify({ level: 60, time: Date.now(), pid: process.pid, service: 'wharf-runtime', stalledMs: stalled, msg: 'event loop stalled past --stall-timeout (a step that cannot be interrupted); ending the runtime' });
  writeSync(2, line + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, Math.min(1000, Math.max(50, workerData.stallMs / 4)));
`;

/** Starts the watchdog; returns a function that stops it. `stallMs` 0 turns it off. */
export function startStallWatchdog(stallMs: number): () => Promise<void> {
  if (stallMs <= 0) return async () => {};
  const shared = new SharedArrayBuffer(8);
  const beat = new BigInt64Array(shared);
  Atomics.store(beat, 0, BigInt(Date.now()));
  const heart = setInterval(() => Atomics.store(beat, 0, BigInt(Date.now())), Math.min(250, Math.max(20, stallMs / 8)));
  heart.unref();
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { shared, stallMs }, env: {}, resourceLimits: { maxOldGenerationSizeMb: 16 } });
  worker.unref();
  return async () => {
    clearInterval(heart);
    await worker.terminate();
  };
}
