#!/usr/bin/env -S node --import tsx
import { RUNTIME_LISTENING_PREFIX } from '@wharf/contracts/runtime-protocol';
import pino from 'pino';
import { parseRuntimeArgs } from '../cli-args.js';
import { ConfigError } from '../config/app-config.js';
import { createRuntime } from '../runtime.js';
import { startStallWatchdog } from '../stall-watchdog.js';

// main: the only place that reads process.env and argv. Logs go to stderr; stdout carries one
// "listening URL" line for the parent process.
const env = process.env;
let args: ReturnType<typeof parseRuntimeArgs>;
try {
  args = parseRuntimeArgs(process.argv.slice(2), env);
} catch (err) {
  process.stderr.write(`wharf-runtime: ${(err as Error).message}\n`);
  process.exit(2);
}
const log = pino(
  { level: args.logLevel, base: { service: 'wharf-runtime' }, redact: ['headers.authorization', 'headers.cookie', 'dsn', 'secret', 'password'] },
  pino.destination(2),
);
try {
  const runtime = await createRuntime({ ...args, env, log });
  let stopWatchdog: () => unknown = () => undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    runtime
      .close()
      .then(() => stopWatchdog())
      .then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  // Before the listening line: a target may stop the runtime the moment it has read it, and a signal that came before
  // the handlers would end the process without closing its databases.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdout.write(`${RUNTIME_LISTENING_PREFIX}${runtime.url}\n`);
  // After the listening line: the watchdog's thread is not on the start path.
  stopWatchdog = startStallWatchdog(args.limits.stallTimeoutMs);
} catch (err) {
  if (err instanceof ConfigError) process.stderr.write(`wharf-runtime: ${err.message}\n`);
  else process.stderr.write(`wharf-runtime: failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
}
