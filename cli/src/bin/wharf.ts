#!/usr/bin/env -S node --import tsx
import { main } from '../main.js';

// Ctrl-C in a terminal signals the whole process group, and npm forwards the same signal again: the repeats that
// arrive with the first are ignored, so the orderly shutdown (runtimes, server, database) can finish. A signal
// sent later than that is a user insisting: exit at once.
let firstSignalAt = 0;
const stopSignal = new Promise<string>((resolve) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (firstSignalAt === 0) {
        firstSignalAt = Date.now();
        resolve(signal);
      } else if (Date.now() - firstSignalAt > 2_000) {
        process.stderr.write(`${signal} again: exiting without waiting for shutdown\n`);
        process.exit(130);
      }
    });
  }
});

const code = await main(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  cwd: process.cwd(),
  env: process.env,
  waitForStop: () => stopSignal,
});
process.exit(code);
