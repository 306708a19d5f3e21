import type { Positions } from '../yaml/positions.js';

/** One parsed YAML document of a workflow config file, with what is needed to report positions. */
export interface ConfigDocument {
  file: string;
  /** Index of the document within its file. */
  index: number;
  /** Where its nodes are, by path, and line/column of offsets. */
  positions: Positions;
  value: unknown;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
