/** Finished runs in IndexedDB (database "qaft-lab", object store "runs", key `id`). */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { upgradeConfig } from '../engine/core/config';
import { isMethod } from '../engine/core/methods';
import { taskMetric } from '../engine/tasks';
import type { RunRecord } from '../engine/core/runs';

interface LabDb extends DBSchema {
  runs: { key: string; value: RunRecord };
}

export const DB_NAME = 'qaft-lab';
const DB_VERSION = 1;

export interface RunStore {
  list(): Promise<{ runs: RunRecord[]; skipped: number }>;
  put(run: RunRecord): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Whether a stored value looks like a RunRecord this page can show. */
function isRunRecord(v: unknown): v is RunRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    typeof r.name === 'string' &&
    isMethod(r.method) &&
    typeof r.bits === 'number' &&
    Array.isArray(r.curve) &&
    typeof r.createdAt === 'number' &&
    ['done', 'diverged', 'stopped'].includes(r.status as string)
  );
}

/**
 * A stored run with its config brought up to this version of the lab, or null if unusable. Runs
 * saved before the task interface carry their loss as `testMse` and no metric: both are added.
 */
export function upgradeRun(v: unknown): RunRecord | null {
  if (!isRunRecord(v)) return null;
  try {
    const config = upgradeConfig(v.config);
    const old = v as RunRecord & { testMse?: number | null };
    const loss = typeof old.loss === 'number' || old.loss === null ? old.loss : typeof old.testMse === 'number' ? old.testMse : null;
    const metric = old.metric?.name ? old.metric : taskMetric(config.task);
    const { testMse: _old, ...rest } = old;
    return { ...rest, loss, metric, config };
  } catch {
    return null;
  }
}

export async function openRunStore(): Promise<RunStore> {
  if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available in this browser');
  const db: IDBPDatabase<LabDb> = await openDB<LabDb>(DB_NAME, DB_VERSION, {
    upgrade(d) {
      if (!d.objectStoreNames.contains('runs')) d.createObjectStore('runs', { keyPath: 'id' });
    },
    blocking() {
      // A newer version of the page wants to upgrade: let it.
      db.close();
    },
  });
  return {
    async list() {
      const all: unknown[] = await db.getAll('runs');
      const runs = all
        .map(upgradeRun)
        .filter((r): r is RunRecord => r !== null)
        .sort((a, b) => a.createdAt - b.createdAt);
      return { runs, skipped: all.length - runs.length };
    },
    async put(run) {
      await db.put('runs', run);
    },
    async delete(id) {
      await db.delete('runs', id);
    },
  };
}
