import type { Logger } from 'pino';
import { DatabaseError, HttpAnswerError, StepFailedError } from '../pipeline/errors.js';
import { PipelineTimeoutError } from '../pipeline/build-pipeline.js';
import { TemplateExecError, TemplateSyntaxError } from '../template/index.js';

/** Maps a pipeline failure to the status and JSON the client sees, logging the full error (SQL included) once. */
export function answerForError(err: unknown, log: Logger): { status: number; body: Record<string, unknown> } {
  if (err instanceof HttpAnswerError) return { status: err.status, body: err.body };
  if (err instanceof PipelineTimeoutError) {
    log.error({ err }, 'pipeline timed out');
    return { status: 504, body: { error: err.message } };
  }
  if (err instanceof StepFailedError) {
    const cause = err.cause;
    const where = { pipeline: err.pipeline, step: err.step };
    if (cause instanceof DatabaseError) {
      log.error({ err: cause, sql: cause.sql, ...where }, 'database step failed');
      return { status: 500, body: { error: 'database error', ...where } };
    }
    if (cause instanceof TemplateExecError || cause instanceof TemplateSyntaxError) {
      log.error({ err: cause, ...where }, 'template failed');
      return { status: 500, body: { error: `template error: ${cause.message}`, ...where } };
    }
    log.error({ err: cause, ...where }, 'step failed');
    return { status: 500, body: { error: `step failed: ${(cause as Error)?.message ?? String(cause)}`, ...where } };
  }
  log.error({ err }, 'request failed');
  return { status: 500, body: { error: 'internal error' } };
}
