/** Stripe's list and search envelopes: newest first, `limit` 1–100, cursors `starting_after` / `ending_before` / `page`. */
import type Stripe from 'stripe';
import { stripeErrors } from './errors.js';

export interface ListParams {
  limit?: number;
  starting_after?: string;
  ending_before?: string;
}

function limitOf(limit: number | undefined): number {
  const n = limit ?? 10;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw stripeErrors.parameterInvalid('limit', `Invalid limit: must be an integer between 1 and 100`);
  return n;
}

/** `items` oldest first (insertion order), as the fake stores them. */
export function listOf<T extends { id?: string | null }>(items: Iterable<T>, params: ListParams, url: string, label: string): Stripe.ApiList<T> {
  const newestFirst = [...items].reverse();
  const limit = limitOf(params.limit);
  const indexOf = (id: string, param: string) => {
    const i = newestFirst.findIndex((x) => x.id === id);
    if (i < 0) throw stripeErrors.resourceMissing(label, id, param);
    return i;
  };
  let data: T[];
  let hasMore: boolean;
  if (params.starting_after) {
    const rest = newestFirst.slice(indexOf(params.starting_after, 'starting_after') + 1);
    data = rest.slice(0, limit);
    hasMore = rest.length > limit;
  } else if (params.ending_before) {
    const before = newestFirst.slice(0, indexOf(params.ending_before, 'ending_before'));
    data = before.slice(Math.max(0, before.length - limit));
    hasMore = before.length > limit;
  } else {
    data = newestFirst.slice(0, limit);
    hasMore = newestFirst.length > limit;
  }
  return { object: 'list', data, has_more: hasMore, url };
}

/** Search results page with an opaque `page` token (an offset here). */
export function searchResultOf<T>(items: T[], params: { limit?: number; page?: string }, url: string): Stripe.ApiSearchResult<T> {
  const newestFirst = [...items].reverse();
  const limit = limitOf(params.limit);
  let offset = 0;
  if (params.page !== undefined) {
    const m = /^page_(\d+)$/.exec(params.page);
    if (!m) throw stripeErrors.parameterInvalid('page', `Invalid page: ${params.page}`);
    offset = Number(m[1]);
  }
  const data = newestFirst.slice(offset, offset + limit);
  const more = newestFirst.length > offset + limit;
  return { object: 'search_result', data, has_more: more, next_page: more ? `page_${offset + limit}` : null, url, total_count: newestFirst.length };
}

/** `created` filters: a timestamp or `{ gt, gte, lt, lte }`. */
export function matchesRange(value: number, filter: number | Stripe.RangeQueryParam | undefined): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'number') return value === filter;
  return (
    (filter.gt === undefined || value > filter.gt) &&
    (filter.gte === undefined || value >= filter.gte) &&
    (filter.lt === undefined || value < filter.lt) &&
    (filter.lte === undefined || value <= filter.lte)
  );
}
