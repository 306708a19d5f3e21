/** The fake's endpoint implementations, one map by endpoint id (as in the generated table). */
import type { Handler } from '../context.js';
import { catalogHandlers } from './catalog.js';
import { checkoutHandlers } from './checkout.js';
import { customerHandlers } from './customers.js';
import { eventHandlers } from './events.js';
import { invoiceHandlers } from './invoices.js';
import { meterHandlers } from './meters.js';
import { subscriptionHandlers } from './subscriptions.js';

export const handlers: Readonly<Record<string, Handler>> = {
  ...customerHandlers,
  ...catalogHandlers,
  ...meterHandlers,
  ...checkoutHandlers,
  ...subscriptionHandlers,
  ...invoiceHandlers,
  ...eventHandlers,
};
