/** Usage metering's tables (0210_metering.sql): inputs, hourly aggregation, the meter-event outbox. */
export { recordAgentsSeen, recordRuntimeRequests, recordUsageEvents, type RuntimeRequestSample } from './record-usage.js';
export {
  aggregateHours,
  dirtyHours,
  aggregatedThrough,
  setAggregatedThrough,
  listHourlyUsage,
  hourOf,
  hoursBetween,
  HourlyUsageRow,
} from './aggregate-hours.js';
export {
  listStripeCustomers,
  enqueueMeterEvents,
  claimMeterEvents,
  markMeterEventsSent,
  retryMeterEvent,
  failMeterEvent,
  countMeterEvents,
  sentForHourExcept,
  sentPerHour,
  MeterEventRow,
  type StripeCustomer,
} from './meter-event-outbox.js';
export { withMeteringLock, METERING_JOBS, type MeteringJob } from './run-lock.js';
export { pruneMetering } from './retention.js';
