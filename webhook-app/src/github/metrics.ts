/**
 * The GitHub App's Prometheus metrics. Every label value comes from a fixed set, so that no request (an unsigned
 * one, a garbage header, an event GitHub adds tomorrow) creates a new series: an event Wharf does not handle is
 * counted as `other`, a request whose signature was not checked yet names no event at all.
 */
import { OUTBOX_KINDS } from '@wharf/contracts';
import { Counter, Histogram, type Registry } from 'prom-client';

export const RECEIVE_RESULTS = ['stored', 'duplicate', 'bad_signature', 'bad_request', 'unstorable', 'store_failed'] as const;
export type ReceiveResult = (typeof RECEIVE_RESULTS)[number];
export const PROCESS_RESULTS = ['done', 'ignored', 'retry', 'failed'] as const;
export const SEND_RESULTS = ['delivered', 'skipped', 'superseded', 'retry', 'gave_up'] as const;
export type SendResult = (typeof SEND_RESULTS)[number];

/** Label for a request whose signature does not hold: its headers are the sender's words, not GitHub's. */
export const UNVERIFIED_EVENT = 'unverified';
export const OTHER_EVENT = 'other';

export interface GitHubMetrics {
  received: Counter<'event' | 'result'>;
  processed: Counter<'event' | 'result'>;
  sent: Counter<'kind' | 'result'>;
  storeSeconds: Histogram<string>;
  /** The label of a verified event: itself when Wharf handles it, else `other`. */
  eventLabel(event: string): string;
  /** The label of an outbox kind: itself when it is one, else `other`. */
  kindLabel(kind: string): string;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createGitHubMetrics(registry: Registry, handledEvents: readonly string[]): GitHubMetrics {
  const events = new Set(handledEvents);
  const kinds = new Set<string>(Object.values(OUTBOX_KINDS));
  const counter = <T extends string>(name: string, help: string, labelNames: T[]) =>
    reuse(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
  return {
    received: counter('wharf_github_webhooks_received_total', 'Webhook deliveries received, by event (handled ones, other or unverified) and result.', ['event', 'result']),
    processed: counter('wharf_github_deliveries_processed_total', 'Webhook deliveries processed, by event and result.', ['event', 'result']),
    sent: counter('wharf_github_outbox_sent_total', 'Outbox rows sent to GitHub, by kind and result.', ['kind', 'result']),
    storeSeconds: reuse(
      registry,
      'wharf_github_webhook_store_seconds',
      () =>
        new Histogram({
          name: 'wharf_github_webhook_store_seconds',
          help: 'Time to store a webhook delivery.',
          registers: [registry],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
        }),
    ),
    eventLabel: (event) => (events.has(event) ? event : OTHER_EVENT),
    kindLabel: (kind) => (kinds.has(kind) ? kind : OTHER_EVENT),
  };
}
