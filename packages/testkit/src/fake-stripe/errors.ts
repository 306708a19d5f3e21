/**
 * Stripe's error vocabulary (https://docs.stripe.com/api/errors): every refusal of the fake is one of these, with
 * the status, `type`, `code`, `param` and message wording Stripe uses, so the client raises the same
 * `StripeInvalidRequestError` / `StripeCardError` / `StripeIdempotencyError` / … as against the real API.
 */
export const STRIPE_ERROR_TYPES = ['api_error', 'card_error', 'idempotency_error', 'invalid_request_error'] as const;
export type StripeErrorType = (typeof STRIPE_ERROR_TYPES)[number];

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
}

/** Thrown by the fake's checks and handlers; the server turns it into `{ "error": … }` with `status`. */
export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly error: StripeErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(error.message);
  }
}

const docUrl = (code: string) => `https://docs.stripe.com/error-codes/${code.replace(/_/g, '-')}`;

function invalid(status: number, message: string, extra: { code?: string; param?: string } = {}): FakeStripeError {
  return new FakeStripeError(status, {
    type: 'invalid_request_error',
    message,
    ...(extra.code ? { code: extra.code, doc_url: docUrl(extra.code) } : {}),
    ...(extra.param ? { param: extra.param } : {}),
  });
}

export const CARD_OUTCOMES = ['succeeds', 'generic_decline', 'insufficient_funds', 'expired_card'] as const;
export type CardOutcome = (typeof CARD_OUTCOMES)[number];

const DECLINE_MESSAGES: Record<Exclude<CardOutcome, 'succeeds'>, { code: string; message: string }> = {
  generic_decline: { code: 'card_declined', message: 'Your card was declined.' },
  insufficient_funds: { code: 'card_declined', message: 'Your card has insufficient funds.' },
  expired_card: { code: 'expired_card', message: 'Your card has expired.' },
};

export const stripeErrors = {
  invalidRequest: (message: string, param?: string, code?: string) => invalid(400, message, { param, code }),
  resourceMissing: (label: string, id: string, param = 'id') =>
    invalid(404, `No such ${label}: '${id}'`, { code: 'resource_missing', param }),
  parameterUnknown: (param: string) =>
    invalid(400, `Received unknown parameter: ${param}`, { code: 'parameter_unknown', param }),
  parameterMissing: (param: string) => invalid(400, `Missing required param: ${param}.`, { code: 'parameter_missing', param }),
  parameterInvalidEmpty: (param: string) =>
    invalid(
      400,
      `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
      { code: 'parameter_invalid_empty', param },
    ),
  parameterInvalidInteger: (param: string, value: string) =>
    invalid(400, `Invalid integer: ${value}`, { code: 'parameter_invalid_integer', param }),
  parameterInvalid: (param: string, message: string) => invalid(400, message, { param }),
  unrecognizedUrl: (method: string, path: string) =>
    invalid(404, `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`),
  apiKeyMissing: () =>
    invalid(
      401,
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    ),
  apiKeyInvalid: (key: string) =>
    invalid(401, `Invalid API Key provided: ${key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}` : '****'}`),
  apiVersionInvalid: (version: string, expected: string) =>
    invalid(400, `Invalid Stripe API version: ${version}. This fake answers ${expected}, the version the stripe package pins.`),
  apiVersionMissing: (expected: string) =>
    invalid(400, `Missing Stripe-Version header: pin apiVersion ${expected} (the version the stripe package pins) so the answers keep their shape.`),
  idempotencyKeyMissing: () =>
    invalid(400, 'A POST without an Idempotency-Key header: the stripe client sends one on every POST; a retry without one can execute twice.'),
  idempotencyParamsMismatch: (key: string) =>
    new FakeStripeError(400, {
      type: 'idempotency_error',
      message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
    }),
  idempotencyEndpointMismatch: (key: string, first: string, now: string) =>
    new FakeStripeError(400, {
      type: 'idempotency_error',
      message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${first}' vs '${now}'). Try using a key other than '${key}' if you meant to execute a different request.`,
    }),
  idempotencyInProgress: (key: string) =>
    new FakeStripeError(409, {
      type: 'idempotency_error',
      message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
    }),
  cardDeclined: (outcome: Exclude<CardOutcome, 'succeeds'>, param?: string) =>
    new FakeStripeError(402, {
      type: 'card_error',
      code: DECLINE_MESSAGES[outcome].code,
      doc_url: docUrl(DECLINE_MESSAGES[outcome].code),
      ...(outcome === 'expired_card' ? {} : { decline_code: outcome }),
      message: DECLINE_MESSAGES[outcome].message,
      ...(param ? { param } : {}),
    }),
  rateLimited: (retryAfterSeconds: number) =>
    new FakeStripeError(
      429,
      {
        type: 'invalid_request_error',
        code: 'rate_limit',
        doc_url: docUrl('rate_limit'),
        message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
      },
      { 'retry-after': String(retryAfterSeconds) },
    ),
  apiError: (status: number) =>
    new FakeStripeError(status, {
      type: 'api_error',
      message: 'An unknown error occurred. Please try again later or contact support at https://support.stripe.com/.',
    }),
  paramNotModelled: (endpointId: string, param: string) =>
    new FakeStripeError(501, {
      type: 'api_error',
      message: `The fake Stripe accepts \`${param}\` on ${endpointId} (Stripe does) but does not model what it does yet. Add it to packages/testkit/src/fake-stripe/handlers.`,
    }),
  notModelled: (endpointId: string, method: string, path: string) =>
    new FakeStripeError(501, {
      type: 'api_error',
      message: `The fake Stripe does not model ${endpointId} (${method} ${path}) yet; Stripe would answer it. Add it to packages/testkit/src/fake-stripe/handlers.`,
    }),
};
