/** The parts of a Workflow app config the runtime reads, after loading and merging every --config file. */
export type ModuleSpec = {
  readonly name: string;
  readonly type: string;
  readonly config: Record<string, unknown>;
  /** Directory of the file that declared the module, for relative paths. */
  readonly dir: string;
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

export type AppConfig = {
  readonly modules: readonly ModuleSpec[];
  readonly pipelines: readonly PipelineSpec[];
  readonly routes: readonly RouteSpec[];
};

/** Every problem found while loading, reported at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid workflow config:\n  - ${problems.join('\n  - ')}`);
  }
}
