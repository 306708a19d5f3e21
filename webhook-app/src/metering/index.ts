export { meteringUnit, createMeteringUnit, startMeteringJobs, type MeteringJobs } from './unit.js';
export { runHourly, aggregateClosedHours, closedThrough, type HourlyResult } from './run-hourly.js';
export { sendMeterEvents, classifyStripeError, type SendResult } from './send-meter-events.js';
export { reconcileMeterEvents, type ReconcileResult, type UsageDifference } from './reconcile-meter-events.js';
export { createMeteringMetrics, type MeteringMetrics } from './metrics.js';
export { meteringSettings, type MeteringSettings } from './settings.js';
export { DEFAULT_METER_EVENT_RETRY, type MeteringDeps, type CustomerDirectory } from './deps.js';
