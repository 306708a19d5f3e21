/** A problem (RFC 9457) thrown by a handler or a hook, answered as application/problem+json. */
import { type FieldError, problem, type Problem, type ProblemCode } from '@wharf/contracts';

export class ProblemError extends Error {
  readonly problem: Problem;
  readonly headers: Record<string, string>;
  constructor(code: ProblemCode, detail?: string, extra: { permission?: string; errors?: FieldError[]; headers?: Record<string, string> } = {}) {
    super(detail ?? code);
    this.name = 'ProblemError';
    const { headers, ...rest } = extra;
    this.problem = problem(code, detail, rest);
    this.headers = headers ?? {};
  }
}

export const notFound = (what = 'resource'): ProblemError => new ProblemError('not-found', `no such ${what} in this organization`);
