/**
 * The last metrics snapshot of a clean stop and the saves that still come after it: the change journal
 * stays open until the store is closed (close()), so such a save is journalled and the next start reads
 * the snapshot plus that plan's stored facts, exactly the stored facts; after close() a save is refused
 * before it changes anything. (The stack's side, over HTTP on dynalite: test/integration/metrics-snapshot-stop.test.ts.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planFacts } from '../../lib/domain/metrics/facts.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { FactStore } from '../../lib/metrics/fact-store.ts';
import { MetricsIndex } from '../../lib/metrics/index.ts';
import { FactSnapshotFile } from '../../lib/metrics/snapshot.ts';
import { planInStage } from '../support/domain-fixtures.ts';
import { FakeFactStore as FakeStore } from '../support/fake-fact-store.ts';

const plan = (stage: 'referred' | 'active', planId: string) => ({ ...(planInStage(stage).plan as Plan), planId });

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wraparound-snapshot-lifecycle-'));
  path = join(dir, 'metrics-facts.snapshot');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let tokens = 0;
const index = (store: FakeStore, warned: string[] = []) =>
  new MetricsIndex({ store: store as unknown as FactStore, snapshotFile: new FactSnapshotFile(path), newToken: () => `token-${(tokens += 1)}`, warn: (m) => warned.push(m) });

async function started(store: FakeStore, warned: string[] = []) {
  const idx = index(store, warned);
  await idx.start();
  return idx;
}

describe('metrics snapshot at a clean stop', () => {
  it('a save after the last snapshot, before the store closes, is journalled: the next start reads the snapshot and that plan, as the stored facts are', async () => {
    const store = new FakeStore();
    const warned: string[] = [];
    const idx = await started(store, warned);
    await idx.onPlanSaved(plan('referred', 'pl_a'));
    await idx.onPlanSaved(plan('referred', 'pl_b'));
    expect(await idx.saveFinalSnapshot()).toBe(true);
    const token = store.token;
    // An execution that outlived stop()'s wait: one plan moves on, one is new.
    await idx.onPlanSaved(plan('active', 'pl_a'));
    await idx.onPlanSaved(plan('referred', 'pl_late'));
    idx.close();
    expect(warned).toEqual([]);
    expect(store.token).toBe(token);

    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 3, from: 'snapshot', changedSince: 2 });
    const stored = new Map(store.stored);
    const loaded = (await next.snapshot()).facts;
    expect(loaded.size).toBe(stored.size);
    for (const [planId, facts] of stored) expect(loaded.get(planId)).toEqual(facts);
    expect(loaded.get('pl_a')).toEqual(planFacts(plan('active', 'pl_a')));
  });

  it('a save whose fact item is still being written at the last snapshot is named in its journal, and the next start reads it back', async () => {
    const store = new FakeStore();
    const idx = await started(store);
    await idx.onPlanSaved(plan('referred', 'pl_slow'));
    // Its next fact item write waits until the test lets it go.
    let release!: () => void;
    const put = store.put.bind(store);
    store.put = async (planId, facts) => {
      await new Promise<void>((resolve) => (release = resolve));
      return put(planId, facts);
    };
    const saving = idx.onPlanSaved(plan('active', 'pl_slow'));
    expect(idx.savesInFlight).toBe(1);
    expect(await idx.saveFinalSnapshot()).toBe(true);
    release();
    await saving;
    await idx.settled();
    expect(idx.savesInFlight).toBe(0);
    idx.close();
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 1, from: 'snapshot', changedSince: 1 });
    expect((await next.snapshot()).facts.get('pl_slow')).toEqual(planFacts(plan('active', 'pl_slow')));
  });

  it('after close() (the store is closed) a save is refused before it changes anything, and the snapshot stays usable', async () => {
    const store = new FakeStore();
    const warned: string[] = [];
    const idx = await started(store, warned);
    await idx.onPlanSaved(plan('referred', 'pl_a'));
    expect(await idx.saveFinalSnapshot()).toBe(true);
    idx.close();
    const puts = store.puts;
    const token = store.token;
    await expect(idx.onPlanSaved(plan('active', 'pl_a'))).rejects.toThrow(/after the stack closed its store.*sweeper/);
    expect(store.puts).toBe(puts);
    expect(store.token).toBe(token);
    expect(idx.size).toBe(1);
    expect(await idx.saveSnapshot()).toBe(false);
    expect(warned).toEqual([]);
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 1, from: 'snapshot' });
    expect((await next.snapshot()).facts.get('pl_a')).toEqual(planFacts(plan('referred', 'pl_a')));
  });

  it('a journal that cannot be written says what the operator will see: the next start rebuilds the figures from the stored facts, nothing lost', async () => {
    const store = new FakeStore();
    const warned: string[] = [];
    const idx = await started(store, warned);
    expect(await idx.saveFinalSnapshot()).toBe(true);
    (idx as unknown as { journals: { append: () => void }[] }).journals[0]!.append = () => {
      throw new Error('ENOSPC: no space left on device');
    };
    await idx.onPlanSaved(plan('referred', 'pl_f'));
    expect(store.token).toBeUndefined();
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/ENOSPC/);
    expect(warned[0]).toMatch(/next start rebuilds them from every plan's stored facts/);
    expect(warned[0]).toMatch(/Nothing is lost/);
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 1, from: 'fact-items' });
  });
});
