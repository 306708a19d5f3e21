/**
 * The REST API's errors: RFC 9457 problem details with a stable `code`. Clients branch on `code` (and `status`),
 * never on `title` or `detail`. `type` is a URI made of the code, documented in docs/api.md.
 */
export const PROBLEMS = {
  unauthenticated: { status: 401, title: 'Authentication required' },
  'invalid-credentials': { status: 401, title: 'The credentials are not valid' },
  'credentials-expired': { status: 401, title: 'The credentials have expired' },
  'permission-denied': { status: 403, title: 'The credentials lack a permission' },
  'wrong-organization': { status: 403, title: 'These credentials do not act for that organization' },
  'csrf-failed': { status: 403, title: 'Missing or wrong CSRF token' },
  'organization-required': { status: 400, title: 'Say which organization (Wharf-Organization header)' },
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The body is not valid JSON' },
  'invalid-cursor': { status: 400, title: 'The cursor is not one this API handed out' },
  'not-found': { status: 404, title: 'Not found' },
  'payload-too-large': { status: 413, title: 'The body is too large' },
  'unsupported-media-type': { status: 415, title: 'Send application/json' },
  'idempotency-key-reused': { status: 422, title: 'This Idempotency-Key was used for a different request' },
  'idempotency-in-progress': { status: 409, title: 'A request with this Idempotency-Key is still running' },
  'last-owner': { status: 409, title: 'An organization keeps at least one owner' },
  'already-member': { status: 409, title: 'Already a member' },
  'invitation-unusable': { status: 410, title: 'The invitation has expired, was revoked or was used' },
  'seat-limit': { status: 403, title: "The plan's seats are all taken" },
  'version-invalid': { status: 422, title: 'That version is invalid and cannot be deployed' },
  'rollback-unavailable': { status: 409, title: 'This repository cannot be rolled back from Wharf' },
  'working-copy-dirty': { status: 409, title: 'The working copy has uncommitted changes' },
  'already-at-version': { status: 409, title: 'The branch already holds that version' },
  'pull-request-moved': { status: 409, title: 'The pull request has a new head since it was shown' },
  'logs-unavailable': { status: 503, title: "This control plane cannot read that environment's logs" },
  'billing-unavailable': { status: 503, title: 'Billing is not set up on this Wharf (STRIPE_SECRET_KEY)' },
  'already-subscribed': { status: 409, title: 'The organization already has a subscription: change it in the customer portal' },
  'stripe-unavailable': { status: 502, title: 'Stripe did not answer as expected' },
  'not-implemented': { status: 501, title: 'Not available yet' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'github-unavailable': { status: 502, title: 'GitHub did not answer as expected' },
  'sign-in-failed': { status: 400, title: 'Signing in with GitHub failed' },
  'sign-in-unavailable': { status: 501, title: 'Signing in with GitHub is not set up on this Wharf (GITHUB_CLIENT_ID)' },
  'authorization-pending': { status: 400, title: 'The code has not been entered yet: poll again after the interval' },
  'slow-down': { status: 400, title: 'Polling too fast: add 5 seconds to the interval' },
  'too-many-streams': { status: 429, title: 'Too many open event streams' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;
export type ProblemCode = keyof typeof PROBLEMS;
export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];

export const PROBLEM_TYPE_BASE = 'https://wharf.dev/problems/';

export interface FieldError {
  /** JSON pointer into the body, or `query.<name>` / `params.<name>`. */
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail?: string;
  instance?: string;
  /** The permission a 403 lacked. */
  permission?: string;
  errors?: FieldError[];
  requestId?: string;
}

export function problem(code: ProblemCode, detail?: string, extra: Partial<Omit<Problem, 'code' | 'type' | 'title' | 'status'>> = {}): Problem {
  const p = PROBLEMS[code];
  return { type: `${PROBLEM_TYPE_BASE}${code}`, title: p.title, status: p.status, code, ...(detail ? { detail } : {}), ...extra };
}
