/** What Go's time.ParseDuration accepts (`500ms`, `30s`, `1h30m`, `0`); the engine parses durations with it. */
export const GO_DURATION_PATTERN = '^(0|[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))*)$';
