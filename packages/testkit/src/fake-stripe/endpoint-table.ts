/** Loads the generated request table once per process and matches a method + path to an endpoint. */
import { readFileSync } from 'node:fs';
import type { ParamNode, StripeEndpoint, StripeEndpointTable } from './endpoint-types.js';

export interface EndpointMatch {
  endpoint: StripeEndpoint;
  pathParams: Record<string, string>;
}

export interface EndpointIndex {
  readonly apiVersion: string;
  readonly stripeVersion: string;
  readonly endpoints: readonly StripeEndpoint[];
  /** The endpoint for this method and path, or null (Stripe: 404 "Unrecognized request URL"). */
  match(method: string, pathname: string): EndpointMatch | null;
  definition(ref: string): ParamNode;
}

interface Route {
  endpoint: StripeEndpoint;
  regex: RegExp;
  names: string[];
  literalSegments: number;
}

let cached: EndpointIndex | undefined;

export function loadEndpointIndex(): EndpointIndex {
  if (cached) return cached;
  const table = JSON.parse(readFileSync(new URL('./generated/stripe-endpoints.json', import.meta.url), 'utf8')) as StripeEndpointTable;
  const routes: Route[] = table.endpoints
    .filter((e) => !e.apiBase)
    .map((endpoint) => {
      const names: string[] = [];
      const segments = endpoint.path.split('/');
      const pattern = segments
        .map((s) => {
          const m = /^\{(\w+)\}$/.exec(s);
          if (!m) return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(m[1]);
          return '([^/]+)';
        })
        .join('/');
      return { endpoint, regex: new RegExp(`^${pattern}$`), names, literalSegments: segments.length - names.length };
    })
    // `/v1/customers/search` before `/v1/customers/{id}`.
    .sort((a, b) => b.literalSegments - a.literalSegments);
  cached = {
    apiVersion: table.apiVersion,
    stripeVersion: table.stripeVersion,
    endpoints: table.endpoints,
    match(method, pathname) {
      for (const route of routes) {
        if (route.endpoint.method !== method) continue;
        const m = route.regex.exec(pathname);
        if (!m) continue;
        const pathParams: Record<string, string> = {};
        try {
          route.names.forEach((name, i) => (pathParams[name] = decodeURIComponent(m[i + 1])));
        } catch {
          return null;
        }
        return { endpoint: route.endpoint, pathParams };
      }
      return null;
    },
    definition(ref) {
      const node = table.definitions[ref];
      if (!node) throw new Error(`stripe-endpoints.json has no definition ${ref}`);
      return node;
    },
  };
  return cached;
}
