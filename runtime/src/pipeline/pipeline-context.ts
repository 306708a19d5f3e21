export type Json = Record<string, unknown>;

/**
 * What a pipeline run sees: trigger data, the merged "current" values, each step's output and metadata.
 * Templates get `{...current, steps, trigger, meta}`, matching the Workflow engine.
 */
export class PipelineContext {
  readonly current: Json;
  readonly steps: Record<string, Json> = {};
  /** Kept up to date on each merge rather than rebuilt per template: it is on every request's hot path. */
  private readonly view: Json;

  constructor(
    readonly trigger: Json,
    readonly meta: Json,
  ) {
    this.current = { ...trigger };
    this.view = { ...trigger, steps: this.steps, trigger, meta };
  }

  /** Records a step's output under steps.<name> and merges it into the current values. */
  merge(stepName: string, output: Json | undefined): void {
    if (!output) return;
    this.steps[stepName] = output;
    Object.assign(this.current, output);
    Object.assign(this.view, output);
    if ('steps' in output || 'trigger' in output || 'meta' in output) {
      this.view.steps = this.steps;
      this.view.trigger = this.trigger;
      this.view.meta = this.meta;
    }
  }

  /** The data object templates are evaluated against. */
  data(): Json {
    return this.view;
  }

  /** Resolves a dotted path such as `steps.get-item.row` or `body.title`; `.` is the whole current map. */
  resolvePath(path: string): unknown {
    const trimmed = path.trim().replace(/^\./, '');
    if (trimmed === '') return this.current;
    const parts = trimmed.split('.');
    let cur: unknown = parts[0] === 'steps' || parts[0] === 'trigger' || parts[0] === 'meta' ? this.data() : this.current;
    for (const part of parts) {
      if (!cur || typeof cur !== 'object') return undefined;
      cur = (cur as Json)[part];
    }
    return cur;
  }
}
