export function buildCrd(_schema: Record<string, unknown>): string {
  return '';
}
