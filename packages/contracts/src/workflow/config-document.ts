import type { Document, LineCounter } from 'yaml';

/** One parsed YAML document of a workflow config file, with what is needed to report positions. */
export interface ConfigDocument {
  file: string;
  /** Index of the document within its file. */
  index: number;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  value: unknown;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
