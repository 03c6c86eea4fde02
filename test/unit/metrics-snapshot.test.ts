/**
 * The metrics columns saved to the data directory at a clean stop: the next start loads them instead of
 * every stored fact item, but only when the table's marker names that very file; a crash, an old,
 * damaged or mismatched file, or a save racing the stop all fall back to the full load.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FactTable } from '../../lib/domain/metrics/fact-table.ts';
import { planFacts, type PlanFacts } from '../../lib/domain/metrics/facts.ts';
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
  dir = await mkdtemp(join(tmpdir(), 'wraparound-snapshot-'));
  path = join(dir, 'metrics-facts.snapshot');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let tokens = 0;
const index = (store: FakeStore) => new MetricsIndex({ store: store as unknown as FactStore, snapshotFile: new FactSnapshotFile(path), newToken: () => `token-${(tokens += 1)}` });

/** A store with two plans' facts, and an index that loaded them, saved one more plan and stopped cleanly. */
async function cleanlyStopped() {
  const store = new FakeStore();
  store.stored.set('pl_a', planFacts(plan('referred', 'pl_a')));
  store.stored.set('pl_b', planFacts(plan('active', 'pl_b')));
  const first = index(store);
  expect((await first.start()).from).toBe('fact-items');
  await first.onPlanSaved(plan('active', 'pl_c'));
  expect(await first.saveSnapshot()).toBe(true);
  const facts = [...(await first.snapshot()).facts];
  return { store, facts };
}

describe('metrics snapshot', () => {
  it('a clean stop saves the columns; the next start loads them instead of the fact items, and at once stops trusting them', async () => {
    const { store, facts } = await cleanlyStopped();
    expect(store.token).toBeDefined();
    const loadsBefore = store.loads;
    const readsBefore = store.markerReads;
    const second = index(store);
    expect(await second.start()).toEqual({ loaded: 3, from: 'snapshot' });
    expect(store.loads).toBe(loadsBefore);
    // One GetItem of the marker answers both which snapshot it names and whether the facts are complete.
    expect(store.markerReads - readsBefore).toBe(1);
    expect([...(await second.snapshot()).facts]).toEqual(facts);
    // The marker no longer names the file: a crash from here on means a full load next time.
    expect(store.token).toBeUndefined();
    await second.onPlanSaved(plan('referred', 'pl_d'));
    expect(second.size).toBe(4);

    // Crash: no saveSnapshot. The next start reads the fact items, which hold pl_d.
    const third = index(store);
    expect((await third.start()).from).toBe('fact-items');
    expect(third.size).toBe(4);
  });

  it('a save after the snapshot was named keeps the name and is put in its change journal first: the next start reads the file and that plan only', async () => {
    const { store } = await cleanlyStopped();
    const again = index(store);
    await again.start();
    expect(await again.saveSnapshot()).toBe(true);
    const token = store.token;
    expect(token).toBeDefined();
    await again.onPlanSaved(plan('referred', 'pl_e'));
    expect(store.token).toBe(token);
    const full = [...(await again.snapshot()).facts];
    // Crash: no clean stop.
    const loadsBefore = store.loads;
    const getsBefore = store.gets;
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 4, from: 'snapshot', changedSince: 1 });
    expect(store.loads).toBe(loadsBefore);
    expect(store.gets - getsBefore).toBe(1);
    expect([...(await next.snapshot()).facts]).toEqual(full);
  });

  it('a save that begins while the snapshot is written is in its journal, so the snapshot is named and the next start has that plan', async () => {
    const store = new FakeStore();
    const idx = index(store);
    await idx.start();
    const name = store.nameSnapshot.bind(store);
    store.nameSnapshot = async (token: string) => {
      await idx.onPlanSaved(plan('referred', 'pl_late'));
      return name(token);
    };
    expect(await idx.saveSnapshot()).toBe(true);
    expect(store.token).toBeDefined();
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 1, from: 'snapshot', changedSince: 1 });
    expect([...(await next.snapshot()).facts]).toEqual([planFacts(plan('referred', 'pl_late'))]);
  });

  it('a save whose fact item is still being written when the columns are taken is in the journal from its start', async () => {
    const store = new FakeStore();
    const idx = index(store);
    await idx.start();
    // The fact item write of pl_slow waits until the snapshot is named; the columns already hold its new facts.
    let release!: () => void;
    const put = store.put.bind(store);
    store.put = async (planId: string, facts: PlanFacts) => {
      if (planId === 'pl_slow') await new Promise<void>((resolve) => (release = resolve));
      return put(planId, facts);
    };
    const saving = idx.onPlanSaved(plan('active', 'pl_slow'));
    expect(await idx.saveSnapshot()).toBe(true);
    // Crash before the write lands: the journal names pl_slow, whose stored facts are none, so the snapshot (holding it) is refused.
    const beforeWrite = index(store);
    expect(await beforeWrite.start()).toMatchObject({ from: 'fact-items', loaded: 0, snapshotRefused: 'a plan in the snapshot has no stored facts' });
    release();
    await saving;
    expect(await idx.saveSnapshot()).toBe(true);
    const after = index(store);
    expect(await after.start()).toMatchObject({ from: 'snapshot', loaded: 1 });
  });

  it('a periodic snapshot and a crash after more saves give exactly the facts a full load gives', async () => {
    const store = new FakeStore();
    let tick!: () => Promise<boolean>;
    const first = index(store);
    await first.start();
    first.startPeriodicSnapshots({ everyMs: 60_000, schedule: (t) => ((tick = t), () => {}) });
    for (let i = 0; i < 6; i += 1) await first.onPlanSaved(plan(i % 2 ? 'active' : 'referred', `pl_${i}`));
    expect(await tick()).toBe(true);
    // Nothing changed since: the next tick writes nothing.
    expect(await tick()).toBe(false);
    await first.onPlanSaved(plan('active', 'pl_0'));
    await first.onPlanSaved(plan('referred', 'pl_new'));
    // Crash. A start from the snapshot and a full load (no marker name) agree.
    const fromSnapshot = index(store);
    expect(await fromSnapshot.start()).toEqual({ loaded: 7, from: 'snapshot', changedSince: 2 });
    store.token = undefined;
    const full = index(store);
    expect((await full.start()).from).toBe('fact-items');
    const ids = ['pl_0', 'pl_1', 'pl_2', 'pl_3', 'pl_4', 'pl_5', 'pl_new'];
    const [a, b] = [(await fromSnapshot.snapshot()).facts, (await full.snapshot()).facts];
    expect(a.size).toBe(b.size);
    expect(ids.map((id) => a.get(id))).toEqual(ids.map((id) => b.get(id)));
    expect(a.get('pl_0')).toEqual(planFacts(plan('active', 'pl_0')));
  });

  it('takes a snapshot early once its journal holds maxChanges saves, so a start after a crash reads back few plans', async () => {
    const store = new FakeStore();
    const idx = index(store);
    await idx.start();
    idx.startPeriodicSnapshots({ everyMs: 60_000, maxChanges: 3, schedule: () => () => {} });
    for (let i = 0; i < 3; i += 1) await idx.onPlanSaved(plan('referred', `pl_${i}`));
    await expect.poll(() => store.token).toBeDefined();
    const first = store.token;
    await idx.onPlanSaved(plan('active', 'pl_0'));
    expect(store.token).toBe(first);
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 3, from: 'snapshot', changedSince: 1 });
  });

  it('a change journal that cannot be written forgets the snapshot before the fact item is written', async () => {
    const { store } = await cleanlyStopped();
    const again = index(store);
    await again.start();
    expect(await again.saveSnapshot()).toBe(true);
    // Its next append fails (a full or failing disk).
    const warned: string[] = [];
    (again as unknown as { warn: (m: string) => void }).warn = (m) => warned.push(m);
    (again as unknown as { journals: { append: () => void }[] }).journals[0]!.append = () => {
      throw new Error('ENOSPC');
    };
    await again.onPlanSaved(plan('referred', 'pl_f'));
    expect(store.token).toBeUndefined();
    expect(warned.join()).toMatch(/ENOSPC/);
  });

  for (const [what, spoil, reason] of [
    ['missing', async () => rm(path), 'no snapshot file'],
    ['damaged (a byte of the body changed)', async () => {
      const bytes = await readFile(path);
      bytes[bytes.byteLength - 10] = (bytes[bytes.byteLength - 10] as number) ^ 0xff;
      await writeFile(path, bytes);
    }, 'checksum'],
    ['cut short', async () => writeFile(path, (await readFile(path)).subarray(0, 100)), 'damaged'],
    ['not a snapshot at all', async () => writeFile(path, 'hello'), 'damaged'],
    ['of another format', async () => rewriteHeader((h) => ({ ...h, format: 0 })), 'format 0'],
    ['of another facts schema', async () => rewriteHeader((h) => ({ ...h, schema: -1 })), 'facts schema -1'],
    ['an older one than the marker names', async () => new FactSnapshotFile(path).write(FactTable.of([]), 'an-older-token'), 'not the snapshot the table names'],
  ] as const) {
    it(`a snapshot file ${what} is not used: the start loads every fact item instead`, async () => {
      const { store, facts } = await cleanlyStopped();
      await spoil();
      const readsBefore = store.markerReads;
      const next = index(store);
      const result = await next.start();
      expect(result).toMatchObject({ loaded: 3, from: 'fact-items' });
      expect(store.markerReads - readsBefore).toBe(1);
      expect(result.snapshotRefused).toContain(reason);
      expect([...(await next.snapshot()).facts]).toEqual(facts);
      expect(store.token).toBeUndefined();
    });
  }

  it('a file being written holds the facts as they were when it began, though the table grows meanwhile (its outgrown arrays given back)', async () => {
    const table = new FactTable();
    const before: PlanFacts[] = [];
    for (let i = 0; i < 20; i += 1) {
      const f = planFacts(plan(i % 2 ? 'active' : 'referred', `pl_${i}`));
      table.set(`pl_${i}`, f);
      before.push(f);
    }
    const file = new FactSnapshotFile(path);
    const writing = file.write(table, 'token-growing');
    // Past the rows' capacity (32), so every column moves to a larger array while the file is written.
    for (let i = 20; i < 200; i += 1) table.set(`pl_${i}`, planFacts(plan('active', `pl_${i}`)));
    await writing;
    const read = await file.read('token-growing');
    expect('facts' in read && [...read.facts]).toEqual(before);
    expect(table.size).toBe(200);
  });

  it('a stack that does not use snapshots (something else writes facts meanwhile) forgets the one named, and saves none', async () => {
    const { store } = await cleanlyStopped();
    const other = new MetricsIndex({ store: store as unknown as FactStore, snapshotFile: new FactSnapshotFile(path), useSnapshot: false });
    expect(await other.start()).toMatchObject({ from: 'fact-items', snapshotRefused: 'snapshots not used by this stack' });
    expect(store.token).toBeUndefined();
    store.stored.set('pl_behind', planFacts(plan('referred', 'pl_behind')));
    expect(await other.saveSnapshot()).toBe(false);
    const next = index(store);
    expect(await next.start()).toMatchObject({ from: 'fact-items', loaded: 4 });
  });

  it('without a name in the marker the file is not even read', async () => {
    const { store } = await cleanlyStopped();
    store.token = undefined;
    const next = index(store);
    expect(await next.start()).toEqual({ loaded: 3, from: 'fact-items' });
  });
});

async function rewriteHeader(change: (header: Record<string, unknown>) => Record<string, unknown>) {
  const bytes = await readFile(path);
  const length = bytes.readUInt32LE(0);
  const header = Buffer.from(JSON.stringify(change(JSON.parse(bytes.toString('utf8', 4, 4 + length)) as Record<string, unknown>)));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(header.byteLength);
  await writeFile(path, Buffer.concat([prefix, header, bytes.subarray(4 + length)]));
}
