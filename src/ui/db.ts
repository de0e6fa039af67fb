/** Finished runs in IndexedDB (database "qaft-lab", object store "runs", key `id`). */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RunRecord } from '../engine/core/runs';
import { upgradeRun } from '../engine/runfile';

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
