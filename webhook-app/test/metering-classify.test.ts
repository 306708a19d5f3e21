/** What each Stripe answer means for a queued meter event (no database, no network). */
import Stripe from 'stripe';
import t from 'tap';
import { usageMetering } from '@wharf/webhook-app';

const { classifyStripeError } = usageMetering;
const E = Stripe.errors;

t.test('an identifier Stripe already has is sent; unavailability waits; other refusals fail for good', async (t) => {
  t.same(
    classifyStripeError(new E.StripeInvalidRequestError({ message: 'An event already exists with identifier wharf-1-deploys-20261103T09.', param: 'identifier', statusCode: 400 })),
    { kind: 'alreadySent' },
  );
  t.match(classifyStripeError(new E.StripeConnectionError({ message: 'ECONNREFUSED' })), { kind: 'retry', stop: true }, 'Stripe down: stop the run');
  t.match(classifyStripeError(new E.StripeRateLimitError({ message: 'slow down', statusCode: 429 })), { kind: 'retry', stop: true }, '429: stop the run');
  t.match(classifyStripeError(new E.StripeAuthenticationError({ message: 'bad key', statusCode: 401 })), { kind: 'retry', stop: true }, 'a bad key loses nothing');
  t.match(classifyStripeError(new E.StripeAPIError({ message: 'oops', statusCode: 500 })), { kind: 'retry', stop: false }, '5xx: this row waits');
  t.match(classifyStripeError(new E.StripeIdempotencyError({ message: 'in progress', statusCode: 409 })), { kind: 'retry', stop: false });
  t.match(
    classifyStripeError(new E.StripeInvalidRequestError({ message: 'Timestamp must be within the past 35 calendar days', param: 'timestamp', statusCode: 400 })),
    { kind: 'failed', error: /Timestamp/ },
  );
  t.match(classifyStripeError(new Error('socket hang up')), { kind: 'retry', stop: true }, 'anything else is not taken as a refusal');
});
