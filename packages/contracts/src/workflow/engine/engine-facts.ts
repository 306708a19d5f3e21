/**
 * What the Workflow engine enforces, as read from its Go source by scripts/read-engine.ts and kept in
 * upstream/engine-behaviour.json (generated into src/generated/engine-behaviour.ts). Every fact names
 * the engine file and line it was read from.
 */

/** `file.go:123` */
export type SourceRef = string;

export type ValueKind = 'text' | 'map' | 'list' | 'number' | 'boolean' | 'any';

export interface StepRequirement {
  key: string;
  /** What the factory reads the key as: a value of another kind counts as missing. */
  kind: ValueKind;
  source: SourceRef;
  /** Required only when another key (or its default) has one of these values: `switch strategy { case "x": … }`. */
  when?: { key: string; values: string[] };
}

export interface StepFacts {
  factory: string;
  file: string;
  /** Keys without which the factory returns an error, so the engine refuses the config at load. */
  required: StepRequirement[];
  /** Keys whose value the factory checks against a fixed list (exact, case-sensitive). */
  options: { key: string; values: string[]; source: SourceRef }[];
  /** Keys the factory reads in place of another one (`alias` is accepted where `key` is documented). */
  aliases: { key: string; alias: string; source: SourceRef }[];
  /** Keys whose text the factory refuses when it contains a `{{ template }}`. */
  noTemplates: { key: string; source: SourceRef }[];
  /** Pairs of keys the factory refuses together. */
  exclusive: { keys: [string, string]; source: SourceRef }[];
  /** Sets of keys of which the factory needs at least one (`must specify 'a' or 'b'`). */
  oneOf?: { keys: string[]; source: SourceRef }[];
  /** Number keys the factory refuses at zero or below (`x must be positive`). */
  positive?: { key: string; source: SourceRef }[];
  /** Text keys the factory parses as a Go duration, refusing the step when it cannot (`time.ParseDuration`). */
  durations?: { key: string; source: SourceRef }[];
  /** Keys the factory fills in itself when they are missing (`if x == "" { x = "…" }`), with the text default when there is one. */
  defaults?: { key: string; value?: string; source: SourceRef }[];
}

export interface EngineFacts {
  repository: string;
  /** How the files were obtained (a full checkout, GitHub's raw files, or a partial snapshot). */
  note?: string;
  /** Every file read, with the commit it was read at. */
  files: Record<string, { commit: string }>;
  modules: {
    /** The engine refuses a module whose catalogue-required config key is missing. */
    requiredKeys?: SourceRef;
    /** … or present as empty text (string, duration and select fields). */
    requiredNotEmpty?: SourceRef;
    duplicateName?: SourceRef;
    missingDependency?: SourceRef;
  };
  routes: {
    /** A second route with the same method and path is skipped (the first one answers). */
    duplicateSkipped?: SourceRef;
    /** Routes become net/http ServeMux patterns, which panic on conflicting patterns. */
    muxPattern?: SourceRef;
  };
  steps: Record<string, StepFacts>;
  /** Step types whose factory was found by the file name (`module/pipeline_step_<type>.go`) rather than a plugin's registration map. */
  registeredByFileName?: string[];
}
