import type { SettingsOf, SettingsSchema } from '@wharf/contracts';

/** Usage metering (docs/metering.md). Stripe itself is configured by the STRIPE_* settings billing and metering share. */
export const meteringSettings = {
  WHARF_METERING_CRON: {
    type: 'string',
    description: 'When usage is aggregated per hour and queued meter events are sent to Stripe (cron syntax, UTC). Any replica may run it; one at a time does.',
    default: '5 * * * *',
  },
  WHARF_METERING_RECONCILE_CRON: {
    type: 'string',
    description: "When the previous day's meter events are compared with Stripe's meter event summaries (cron syntax, UTC).",
    default: '30 3 * * *',
  },
  WHARF_METERING_SETTLE_MINUTES: {
    type: 'integer',
    description: 'Minutes after the end of an hour before it is reported: usage recorded later is sent as a correction.',
    default: 5,
    minimum: 0,
    maximum: 1440,
  },
} as const satisfies SettingsSchema;
export type MeteringSettings = SettingsOf<typeof meteringSettings>;
