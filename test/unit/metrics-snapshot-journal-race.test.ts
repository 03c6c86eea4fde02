/**
 * Snapshots taken while plans are being saved (the periodic one, or the one after 5,000 saves, under
 * load): once a new snapshot is named, the older journal is closed and its file removed. A save while
 * that removal is still under way must not meet the closed journal: it used to, and the index then
 * printed "a plan change could not be added to the metrics change journal (… not open)" and forgot a
 * good snapshot, so the next start read every fact item. The removal is held here by the file-removal
 * function the test passes to the index, so the saves land in that window every run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { FactStore } from '../../lib/metrics/fact-store.ts';
import { MetricsIndex } from '../../lib/metrics/index.ts';
import { ChangeJournal, FactSnapshotFile, type JournalWriter } from '../../lib/metrics/snapshot.ts';
import { planInStage } from '../support/domain-fixtures.ts';
import { FakeFactStore as FakeStore } from '../support/fake-fact-store.ts';

/**
 * The index's file removal: removals of change journal files wait here while `hold` is set, until the
 * test lets them go; otherwise (and then) the file is removed as in production.
 */
const removals = {
  hold: false,
  pending: [] as (() => void)[],
  async removeFile(file: string, options: { force: boolean }): Promise<void> {
    if (removals.hold && file.endsWith('.changes')) await new Promise<void>((resolve) => removals.pending.push(resolve));
    await rm(file, options);
  },
};

/**
 * The index's change journals: real files (ChangeJournal), except that while `full` is set every write
 * to them fails as on a full disk.
 */
const disk = {
  full: false,
  openJournal(snapshotPath: string, token: string): JournalWriter {
    const journal = new ChangeJournal(snapshotPath, token, removals.removeFile).open();
    return {
      append: (planIds) => {
        if (disk.full) throw new Error('ENOSPC: no space left on device');
        journal.append(planIds);
      },
      close: () => journal.close(),
      discard: () => journal.discard(),
    };
  },
};

const plan = (stage: 'referred' | 'active', planId: string) => ({ ...(planInStage(stage).plan as Plan), planId });

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wraparound-snapshot-race-'));
  path = join(dir, 'metrics-facts.snapshot');
  removals.hold = false;
  removals.pending = [];
  disk.full = false;
});
afterEach(async () => {
  removals.hold = false;
  for (const release of removals.pending.splice(0)) release();
  await rm(dir, { recursive: true, force: true });
});

let tokens = 0;
const index = (store: FakeStore, warned: string[] = []) =>
  new MetricsIndex({ store: store as unknown as FactStore, snapshotFile: new FactSnapshotFile(path), removeFile: removals.removeFile, openJournal: disk.openJournal, newToken: () => `token-${(tokens += 1)}`, warn: (m) => warned.push(m) });

/** Let I/O and timers run until `ready()` holds. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('metrics snapshot taken while plans are being saved', () => {
  it('saves while the older journal is being removed keep the new snapshot: no warning, the marker names it, and a restart reads it plus its journal as the stored facts are', async () => {
    const store = new FakeStore();
    const warned: string[] = [];
    const idx = index(store, warned);
    await idx.start();
    await idx.onPlanSaved(plan('referred', 'pl_a'));
    await idx.onPlanSaved(plan('referred', 'pl_b'));
    expect(await idx.saveSnapshot()).toBe(true);

    // The next snapshot is named; the older journal's file removal is held while plans are saved.
    await idx.onPlanSaved(plan('active', 'pl_a'));
    removals.hold = true;
    const second = idx.saveSnapshot();
    await until(() => removals.pending.length > 0);
    const secondToken = store.token;
    // Each save puts its plan in the journals before its first await: both land while the removal is held.
    const saves = [idx.onPlanSaved(plan('active', 'pl_b')), idx.onPlanSaved(plan('referred', 'pl_c'))];
    removals.hold = false;
    for (const release of removals.pending.splice(0)) release();
    await Promise.all(saves);
    expect(await second).toBe(true);
    // And one more after the removal finished.
    await idx.onPlanSaved(plan('referred', 'pl_d'));
    await idx.settled();
    idx.close();

    expect(warned).toEqual([]);
    expect(store.token).toBe(secondToken);
    expect(store.token).toBeDefined();
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 4, from: 'snapshot', changedSince: 3 });
    const loaded = (await next.snapshot()).facts;
    expect(loaded.size).toBe(store.stored.size);
    for (const [planId, facts] of store.stored) expect(loaded.get(planId)).toEqual(facts);
  });

  it('a journal that cannot be written while its snapshot is being named: that snapshot is not named either, and the operator is told once', async () => {
    const store = new FakeStore();
    const warned: string[] = [];
    const idx = index(store, warned);
    await idx.start();
    await idx.onPlanSaved(plan('referred', 'pl_a'));
    // The marker is named only when the test lets it.
    let name!: () => void;
    const nameSnapshot = store.nameSnapshot.bind(store);
    store.nameSnapshot = async (token) => {
      await new Promise<void>((resolve) => (name = resolve));
      return nameSnapshot(token);
    };
    const taking = idx.saveSnapshot();
    await until(() => name !== undefined);
    disk.full = true;
    await idx.onPlanSaved(plan('active', 'pl_a'));
    name();
    expect(await taking).toBe(false);
    await idx.onPlanSaved(plan('referred', 'pl_b'));
    await idx.settled();
    idx.close();

    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/ENOSPC/);
    expect(store.token).toBeUndefined();
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 2, from: 'fact-items' });
  });
});
