/** An error that answers the HTTP request with its own status and JSON body (validation, auth, bad input). */
export class HttpAnswerError extends Error {
  override readonly name = 'HttpAnswerError';
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.error === 'string' ? body.error : `HTTP ${status}`);
  }
}

/** A database failure: logged in full, answered as 500 without the SQL. */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  constructor(
    message: string,
    readonly sql: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A step failed at run time; carries the pipeline and step for logs and the 500 answer. */
export class StepFailedError extends Error {
  override readonly name = 'StepFailedError';
  constructor(
    readonly pipeline: string,
    readonly step: string,
    readonly stepType: string,
    options: { cause: unknown },
  ) {
    super(`pipeline ${pipeline} step ${step} (${stepType}) failed: ${(options.cause as Error)?.message ?? options.cause}`, options);
  }
}
