/**
 * Row parsing shared by the query modules. slonik 47 applies `sql.type(schema)` only with a result-parser
 * interceptor, so modules parse rows with their schema themselves; these are the pieces they share.
 */
import { z } from 'zod';

/** int8 columns: numbers from Wharf's pool; BigInt or text from other drivers. Ids stay far below 2^53. */
export const int8 = z.union([z.number(), z.bigint(), z.string()]).transform(Number);
/** jsonb columns, taken as they come. */
export const Json = z.custom<unknown>(() => true);

export const parseRows =
  <S extends z.ZodTypeAny>(schema: S) =>
  (rows: readonly unknown[]): z.output<S>[] =>
    rows.map((r) => schema.parse(r));

export const parseRow =
  <S extends z.ZodTypeAny>(schema: S) =>
  (row: unknown): z.output<S> | null =>
    row === null ? null : schema.parse(row);

export const parseOne =
  <S extends z.ZodTypeAny>(schema: S) =>
  (row: unknown): z.output<S> =>
    schema.parse(row);
