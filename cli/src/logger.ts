import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { REDACT_PATHS } from '@wharf/contracts';
import pino, { type Logger } from 'pino';

/** One root logger per process; units take children. `file` '-' means standard error; a log file is created mode 600. */
export function createLogger(options: { level: string; file: string }): Logger {
  const destination =
    options.file === '-'
      ? pino.destination({ fd: 2, sync: false })
      : (mkdirSync(path.dirname(options.file), { recursive: true }), pino.destination({ dest: options.file, sync: false, mkdir: true, mode: 0o600 }));
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
