/** The parts of a Workflow app config the runtime reads, after loading and merging every --config file. */
export type ModuleSpec = {
  readonly name: string;
  readonly type: string;
  readonly config: Record<string, unknown>;
  /** Directory of the file that declared the module, for relative paths. */
  readonly dir: string;
  /** The file that declared the module, for messages. */
  readonly file: string;
};

export type StepSpec = {
  readonly name: string;
  readonly type: string;
  readonly config: Record<string, unknown>;
  readonly skipIf?: string;
};

export type TriggerSpec = { readonly type: string; readonly config: Record<string, unknown> };

export type PipelineSpec = {
  readonly name: string;
  readonly trigger: TriggerSpec | null;
  readonly steps: readonly StepSpec[];
  readonly onError: 'stop' | 'continue';
  readonly timeoutMs: number | null;
};

export type RouteSpec = {
  readonly method: string;
  readonly path: string;
  readonly handler: string;
  readonly middlewares: readonly string[];
};

/** Static values a trigger adds to the data a pipeline starts with (the engine's `params`). */
type Params = Readonly<Record<string, unknown>>;

/** Top-level `triggers:` (and pipeline triggers of the same kinds), each resolved to the pipeline it runs. */
export type HttpTriggerSpec = { readonly method: string; readonly path: string; readonly pipeline: string; readonly params: Params };
export type EventTriggerSpec = { readonly topic: string; readonly event: string | null; readonly pipeline: string; readonly params: Params };
export type ScheduleTriggerSpec = { readonly cron: string; readonly pipeline: string; readonly params: Params; readonly where: string };

/** `workflows.messaging.subscriptions` and `workflows.scheduler.jobs`: module-to-module wiring. */
export type SubscriptionSpec = { readonly topic: string; readonly handler: string };
export type JobSpec = { readonly scheduler: string; readonly job: string };

export type AppConfig = {
  readonly modules: readonly ModuleSpec[];
  readonly pipelines: readonly PipelineSpec[];
  readonly routes: readonly RouteSpec[];
  readonly triggers: {
    readonly http: readonly HttpTriggerSpec[];
    readonly event: readonly EventTriggerSpec[];
    readonly schedule: readonly ScheduleTriggerSpec[];
  };
  readonly subscriptions: readonly SubscriptionSpec[];
  readonly jobs: readonly JobSpec[];
  /** Sections, trigger kinds and trigger targets the runtime does not serve (reported with the unsupported types). */
  readonly unsupported: readonly string[];
};

/** Every problem found while loading, reported at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid workflow config:\n  - ${problems.join('\n  - ')}`);
  }
}
