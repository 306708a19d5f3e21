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
    /** For a child context: the values and step outputs it starts from (the trigger's fields otherwise). */
    seed?: { current: Json; steps: Record<string, Json> },
  ) {
    this.current = seed ? { ...seed.current } : { ...trigger };
    if (seed) for (const [name, output] of Object.entries(seed.steps)) this.steps[name] = { ...output };
    this.view = { ...this.current, steps: this.steps, trigger, meta };
  }

  /**
   * A context for sub-steps (a step.foreach item, a step.parallel branch), as the engine builds one: the parent's
   * trigger, metadata, values and step outputs copied, plus `extra` values; its merges never reach the parent.
   * `deep` copies nested values too (parallel branches), so no branch sees another's changes.
   */
  static child(parent: PipelineContext, extra: Json, deep = false): PipelineContext {
    const copy = <T>(v: T): T => (deep ? structuredClone(v) : v);
    return new PipelineContext(copy({ ...parent.trigger }), copy({ ...parent.meta }), {
      current: { ...copy(parent.current), ...extra },
      steps: copy(parent.steps),
    });
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
