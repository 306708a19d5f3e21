/**
 * Every size, count and time a committed config or a request controls, bounded per runtime.
 * Flags set the first three; the rest are fixed and documented in docs/runtime.md.
 */
export type RuntimeLimits = {
  /** Request body limit in bytes; larger bodies get 413. */
  readonly maxBodyBytes: number;
  /** Upper bound for every pipeline run (a pipeline's own `timeout` may only be shorter). */
  readonly pipelineTimeoutMs: number;
  /** The event loop blocked this long (a step that cannot be interrupted) ends the process; 0 turns it off. */
  readonly stallTimeoutMs: number;
  /** Iterations of `range` (all loops together) in one template rendering. */
  readonly templateIterations: number;
  /** Characters one template rendering (or one template function result) may produce. */
  readonly templateOutputChars: number;
  /** Characters of output one jq run may produce. */
  readonly jqOutputChars: number;
  /** Memory of the jq worker's JavaScript heap, in MiB. */
  readonly jqHeapMb: number;
  /** Rows one SQL query may return. */
  readonly sqlRows: number;
  /** Messages waiting in one in-process broker. */
  readonly brokerQueue: number;
  /** Bytes of one step.http_call response. */
  readonly httpResponseBytes: number;
  /** Items one step.foreach run may iterate over. */
  readonly foreachItems: number;
  /** Sub-step runs (foreach items × their steps, parallel branches, all nesting levels) in one pipeline run. */
  readonly subStepRuns: number;
};

export const DEFAULT_LIMITS: RuntimeLimits = {
  maxBodyBytes: 1024 * 1024,
  pipelineTimeoutMs: 30_000,
  stallTimeoutMs: 60_000,
  templateIterations: 100_000,
  templateOutputChars: 4 * 1024 * 1024,
  jqOutputChars: 8 * 1024 * 1024,
  jqHeapMb: 64,
  sqlRows: 100_000,
  brokerQueue: 10_000,
  httpResponseBytes: 8 * 1024 * 1024,
  foreachItems: 10_000,
  subStepRuns: 100_000,
};
