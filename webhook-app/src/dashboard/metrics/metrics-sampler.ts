/**
 * Request rate and error rate per environment, for the dashboard's sparklines: while someone looks at an environment,
 * its runtime's request counter is read every `intervalMs` and the last `keep` samples are kept in memory as rates.
 * Bounded: at most `maxEnvironments` are sampled at once, and an environment nobody asked about for `idleMs` stops
 * being sampled. Nothing is stored: a restarted control plane starts a new series.
 */
import type { Logger } from 'pino';
import type { RequestCounters } from './parse-request-counters.js';

export interface RatePoint {
  /** End of the interval, ISO time. */
  at: string;
  /** Requests per second over the interval. */
  requests: number;
  /** 5xx answers per second over the interval. */
  errors: number;
}

export interface MetricsSeries {
  intervalSeconds: number;
  points: RatePoint[];
  /** Why there are no points (a runtime elsewhere, not answering), or null. */
  unavailable: string | null;
}

interface Tracked {
  url: string;
  lastAsked: number;
  last: (RequestCounters & { at: number }) | null;
  points: RatePoint[];
  unavailable: string | null;
  busy: boolean;
}

export interface MetricsSampler {
  /** The series of an environment (starting to sample it when it is not yet). */
  series(environmentId: number, url: string | null): MetricsSeries;
  /** Reads every tracked environment now (the timer does it every interval); drops those nobody asked about. */
  tick(): Promise<void>;
  /** How many environments are being sampled. */
  size(): number;
  close(): void;
}

export function createMetricsSampler(options: {
  scrape: (url: string) => Promise<RequestCounters>;
  log: Logger;
  intervalMs?: number;
  keep?: number;
  maxEnvironments?: number;
  idleMs?: number;
  now?: () => number;
}): MetricsSampler {
  const intervalMs = options.intervalMs ?? 5_000;
  const keep = options.keep ?? 60;
  const max = options.maxEnvironments ?? 50;
  const idleMs = options.idleMs ?? 120_000;
  const now = options.now ?? Date.now;
  const tracked = new Map<number, Tracked>();

  const sample = async (id: number, t: Tracked) => {
    if (t.busy) return;
    t.busy = true;
    try {
      const counters = await options.scrape(t.url);
      const at = now();
      if (t.last && at > t.last.at) {
        const seconds = (at - t.last.at) / 1_000;
        // A counter that went down is a new runtime (a rollout): its count started from zero.
        const requests = counters.requests >= t.last.requests ? counters.requests - t.last.requests : counters.requests;
        const errors = counters.errors >= t.last.errors ? counters.errors - t.last.errors : counters.errors;
        t.points.push({ at: new Date(at).toISOString(), requests: requests / seconds, errors: errors / seconds });
        if (t.points.length > keep) t.points.splice(0, t.points.length - keep);
      }
      t.last = { ...counters, at };
      t.unavailable = null;
    } catch (err) {
      t.unavailable = (err as Error).message;
      options.log.debug({ err, environmentId: id }, 'runtime metrics not read');
    } finally {
      t.busy = false;
    }
  };

  const tick = async () => {
    const at = now();
    const work: Promise<void>[] = [];
    for (const [id, t] of tracked) {
      if (at - t.lastAsked > idleMs) tracked.delete(id);
      else work.push(sample(id, t));
    }
    await Promise.all(work);
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();

  return {
    series(id, url) {
      if (!url) return { intervalSeconds: intervalMs / 1_000, points: [], unavailable: 'the environment has no URL yet' };
      let t = tracked.get(id);
      if (t && t.url !== url) {
        tracked.delete(id);
        t = undefined;
      }
      if (!t) {
        if (tracked.size >= max) {
          // Make room: the one asked about least recently goes.
          const oldest = [...tracked.entries()].sort((a, b) => a[1].lastAsked - b[1].lastAsked)[0];
          if (oldest) tracked.delete(oldest[0]);
        }
        t = { url, lastAsked: now(), last: null, points: [], unavailable: null, busy: false };
        tracked.set(id, t);
        void sample(id, t);
      }
      t.lastAsked = now();
      return { intervalSeconds: intervalMs / 1_000, points: [...t.points], unavailable: t.unavailable };
    },
    tick,
    size: () => tracked.size,
    close: () => clearInterval(timer),
  };
}
