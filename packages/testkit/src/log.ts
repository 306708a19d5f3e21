import pino, { type Logger } from 'pino';

/** A logger that prints nothing, unless WHARF_TEST_LOG names a level (`WHARF_TEST_LOG=debug npm test -- …`). */
export const silentLog: Logger = pino({ level: process.env.WHARF_TEST_LOG ?? 'silent' });

export interface CapturedLine {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

/** A logger that keeps every line it is given (tests that assert what was logged, and what was not). */
export function capturingLog(level = 'debug'): { log: Logger; lines: CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const log = pino(
    { level },
    {
      write(line: string) {
        const obj = JSON.parse(line) as Record<string, unknown> & { level: number; msg: string };
        lines.push({ level: pino.levels.labels[obj.level] ?? String(obj.level), msg: obj.msg, obj });
      },
    },
  );
  return { log, lines };
}
