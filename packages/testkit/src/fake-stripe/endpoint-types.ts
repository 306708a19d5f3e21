/**
 * The shape of the fake Stripe's request table (`generated/stripe-endpoints.json`), which
 * `scripts/generate-stripe-endpoints.ts` derives from the `stripe` package's own declarations.
 */

/** A parameter as the form-encoded wire sees it. `emptyable`: '' (the client sends null as '') unsets it. */
export type ParamNode =
  | { type: 'string'; enum?: string[]; emptyable?: true }
  | { type: 'number' | 'boolean' | 'decimal'; emptyable?: true }
  | { type: 'object'; properties: Record<string, ParamNode>; required?: string[]; emptyable?: true }
  | { type: 'map'; values: ParamNode; emptyable?: true }
  | { type: 'array'; items: ParamNode; emptyable?: true }
  | { type: 'anyOf'; anyOf: ParamNode[]; emptyable?: true }
  | { type: 'ref'; ref: string; emptyable?: true };

export interface StripeEndpoint {
  /** `<resource path>.<method>` as on the client, e.g. `billing.meters.listEventSummaries`. */
  id: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Path template with the client's argument names, e.g. `/v1/customers/{id}`. */
  path: string;
  kind?: 'list' | 'search';
  /** Another API host (files.stripe.com, connect.stripe.com, meter-events.stripe.com). */
  apiBase?: string;
  /** Name of the params type in the client's declarations. */
  paramsType: string | null;
  /** Whether the client's declaration makes `params` mandatory. */
  paramsRequired: boolean;
  /** null for an endpoint whose resource the fake does not model (listed by method and path only). */
  params: (ParamNode & { type: 'object' | 'ref' }) | null;
}

export interface StripeEndpointTable {
  /** The `stripe` package version the table was generated from. */
  stripeVersion: string;
  /** The API version that package pins (`Stripe-Version`). */
  apiVersion: string;
  endpoints: StripeEndpoint[];
  /** Named parameter types shared by several endpoints, referenced by `{ type: 'ref' }`. */
  definitions: Record<string, ParamNode>;
}
