/**
 * YAML aliases (`*a`) share nodes, so a 1 KiB file can describe a tree of billions of nodes ("billion laughs");
 * everything that walks the config later would then run for ever. The walk here stops at `limit` nodes.
 */
export function exceedsNodeBudget(value: unknown, limit: number): boolean {
  let budget = limit;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (--budget < 0) return true;
    if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) stack.push(x);
  }
  return false;
}
