export * from './fake-stripe.js';
export * from './endpoint-types.js';
export { STRIPE_ERROR_TYPES, CARD_OUTCOMES, FakeStripeError, type CardOutcome, type StripeErrorBody, type StripeErrorType } from './errors.js';
export { type StripeFault, type StripeFaultRule } from './faults.js';
export { type FakeStripeControls, type CompleteCheckoutOptions } from './controls.js';
export { type FakeStripeClock } from './clock.js';
export { FakeStripeState, type MeterEventRecord } from './state.js';
export { signWebhookPayload, WebhookDispatcher, type WebhookDelivery, type WebhookDispatcherOptions, type ReleaseOrder } from './webhook-dispatcher.js';
export { type BillingSettings } from './context.js';
