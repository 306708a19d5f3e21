/** The billing period a day falls in: the calendar month in UTC (until billing sets its own periods). */
export interface BillingPeriod {
  start: Date;
  end: Date;
  /** Share of the period gone by, 0–1. */
  elapsed: number;
}

export function billingPeriod(at: Date): BillingPeriod {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return { start, end, elapsed: Math.min(1, Math.max(0, (at.getTime() - start.getTime()) / (end.getTime() - start.getTime()))) };
}
