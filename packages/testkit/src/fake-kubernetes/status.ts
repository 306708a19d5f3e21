/**
 * `meta.k8s.io/v1` Status bodies as kube-apiserver 1.31 writes them (k8s.io/apimachinery/pkg/api/errors): the same
 * reasons, codes, details and message wording, so clients that parse them (client-go, @kubernetes/client-node,
 * kubectl) behave as against a real cluster.
 */

export const REASONS = [
  'BadRequest',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'Gone',
  'Expired',
  'Invalid',
  'MethodNotAllowed',
  'NotAcceptable',
  'UnsupportedMediaType',
  'RequestEntityTooLarge',
  'TooManyRequests',
  'InternalError',
  'ServiceUnavailable',
  'Timeout',
] as const;
export type StatusReason = (typeof REASONS)[number];

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** A failed request: thrown anywhere in the fake and written by the router as the Status body. */
export class KubeError extends Error {
  constructor(
    readonly status: StatusBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
  }
}

/** `configmaps`, `workflowapps.wharf.dev`: how the API server names a group-resource in messages. */
export interface GroupResource {
  group: string;
  resource: string;
}
export const qualified = (gr: GroupResource) => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

const failure = (code: number, reason: StatusReason | undefined, message: string, details?: StatusDetails): KubeError =>
  new KubeError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  });

const detailsOf = (gr: GroupResource, name: string): StatusDetails => ({ name, ...(gr.group ? { group: gr.group } : {}), kind: gr.resource });

export const notFound = (gr: GroupResource, name: string) => failure(404, 'NotFound', `${qualified(gr)} "${name}" not found`, detailsOf(gr, name));

/** A path the server does not serve at all (the text kube-apiserver uses for unknown API paths). */
export const pathNotFound = () => failure(404, 'NotFound', 'the server could not find the requested resource', {});

export const alreadyExists = (gr: GroupResource, name: string) =>
  failure(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, detailsOf(gr, name));

export const conflict = (gr: GroupResource, name: string, why: string) =>
  failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, detailsOf(gr, name));

export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export const applyConflict = (causes: StatusCause[], message: string) => failure(409, 'Conflict', message, { causes });

export const badRequest = (message: string) => failure(400, 'BadRequest', message);

export const unauthorized = () => failure(401, 'Unauthorized', 'Unauthorized');

/** `NewForbidden`: `<resource> "<name>" is forbidden: <reason>` (the name only when there is one). */
export const forbidden = (gr: GroupResource, name: string, why: string) =>
  failure(403, 'Forbidden', `${qualified(gr)}${name ? ` "${name}"` : ''} is forbidden: ${why}`, detailsOf(gr, name));

export const methodNotAllowed = () => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export const unsupportedMediaType = (accepted: readonly string[]) =>
  failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, {});

export const notAcceptable = (accepted: readonly string[]) =>
  failure(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`, {});

export const tooLarge = (limit: number) => failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

/** `NewInvalid`: `<Kind>[.group] "<name>" is invalid: <cause>` or `[<cause>, <cause>]`. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): KubeError {
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  const gk = group ? `${kind}.${group}` : kind;
  return failure(422, 'Invalid', `${gk} "${name}" is invalid: ${joined}`, { name, ...(group ? { group } : {}), kind, causes });
}

/** `too old resource version: <asked> (<oldest kept>)`, reason Expired, code 410: what a watch on a compacted revision gets. */
export const expired = (message: string) => failure(410, 'Expired', message);

export const gone = (message: string) => failure(410, 'Gone', message);

export const internalError = (message: string) => failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: 'UnexpectedServerResponse', message }] });

/** A plain error with no reason, as kube-apiserver 1.31 answers an SSA body that does not fit the schema. */
export const untypedServerError = (message: string) => failure(500, undefined, message);

export const serviceUnavailable = (message: string) => failure(503, 'ServiceUnavailable', message);

export const tooManyRequests = (retryAfterSeconds: number) =>
  new KubeError(
    { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Too many requests, please try again later.', reason: 'TooManyRequests', details: { retryAfterSeconds }, code: 429 },
    { 'retry-after': String(retryAfterSeconds) },
  );

export const timeout = () => failure(504, 'Timeout', 'Timeout: request did not complete within requested timeout - context deadline exceeded', {});

export const successStatus = (details: StatusDetails): Record<string, unknown> => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Success',
  details,
});
