// Node 20 lacks ES2024 Map.groupBy / Object.groupBy, which vitest 5 uses; imported by both vitest configs.
// vitest 5 declares node ^22.12; on Node 20 its reporter calls Map.groupBy / Object.groupBy
// (ES2024, Node 21+) when it prints failures and snapshot summaries. Supply them so a failing
// test is reported instead of crashing the reporter.
type GroupBy = <K, T>(items: Iterable<T>, key: (item: T, index: number) => K) => [K, T[]][];
const groupEntries: GroupBy = (items, key) => {
  const groups = new Map<unknown, unknown[]>();
  let i = 0;
  for (const item of items) {
    const k = key(item, i++);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return [...groups] as never;
};
const M = Map as unknown as { groupBy?: unknown };
M.groupBy ??= <K, T>(items: Iterable<T>, key: (item: T, index: number) => K) => new Map(groupEntries(items, key));
const O = Object as unknown as { groupBy?: unknown };
O.groupBy ??= <T>(items: Iterable<T>, key: (item: T, index: number) => PropertyKey) =>
  Object.assign(Object.create(null) as object, Object.fromEntries(groupEntries(items, key)));
