/**
 * The capacity holds of the provider directory against a real dynalite: one conditional write per
 * reservation keeps every service within its capacity, releases are token-checked and idempotent,
 * and the hourly reconcile gives back holds that no live allocation explains.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { DirectoryStore } from '../../lib/adapters/dynamodb/directory-store.ts';
import { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { planToItem } from '../../lib/adapters/dynamodb/plan-item.ts';
import { Directory } from '../../lib/domain/directory.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import { reconcileHolds } from '../../functions/sweeper/handler.ts';
import { DIRECTORY as FIXTURE_DIRECTORY, planInStage } from '../support/domain-fixtures.ts';

const TABLE = 'wraparound-directory-store-test';
const NOW = '2026-03-02T10:00:00.000Z';
const LATER = '2026-03-02T11:00:00.000Z';

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;
let services: DirectoryStore;
let plans: PlanRepository;

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 3 });
  services = new DirectoryStore(client, TABLE);
  plans = new PlanRepository(client, TABLE);
});
afterAll(async () => {
  client?.destroy();
  await store?.close();
});

/** Every test works on services of its own (fresh ids), so the shared table needs no cleaning. */
let run = 0;
beforeEach(() => {
  run += 1;
});
const sid = (name: string) => `t${run}-${name}`;

function directoryOf(list: { id: string; capacity: number; status?: 'active' | 'temporarily-closed' }[]): Directory {
  return Directory.parse({
    name: 'Directory store test',
    organizations: [{ id: 'harbour', name: 'Harbour' }],
    services: list.map((s) => ({ id: s.id, organizationId: 'harbour', name: s.id, needDomains: ['mental-health'], serviceAreas: ['birmingham'], capacity: s.capacity, ...(s.status ? { status: s.status } : {}) })),
  });
}

async function seeded(capacity: number, status?: 'active' | 'temporarily-closed'): Promise<string> {
  const id = sid('svc');
  await services.seed(directoryOf([{ id, capacity, ...(status ? { status } : {}) }]), NOW);
  return id;
}

const holdIds = async (serviceId: string) => Object.keys((await services.state(serviceId))?.holds ?? {}).sort();
const alloc = (n: number) => `al_store${String(run).padStart(6, '0')}_${n}`;
const PLAN = 'pl_storeplan000001';

describe('seed and state', () => {
  it('creates each service once with its file capacity and status, and never overwrites', async () => {
    const id = sid('seeded');
    await services.seed(directoryOf([{ id, capacity: 4 }]), NOW);
    expect(await services.state(id)).toMatchObject({ serviceId: id, capacity: 4, status: 'active', holds: {}, updatedAt: NOW });
    await services.reserve(id, alloc(1), PLAN, NOW, 'tok-a');
    await services.seed(directoryOf([{ id, capacity: 9, status: 'temporarily-closed' }]), LATER);
    const state = await services.state(id);
    expect(state).toMatchObject({ capacity: 4, status: 'active', updatedAt: NOW });
    expect(Object.keys(state?.holds ?? {})).toEqual([alloc(1)]);
  });
});

describe('reserve', () => {
  it('reserves up to capacity, then answers full', async () => {
    const id = await seeded(3);
    const results = [];
    for (let n = 1; n <= 4; n += 1) results.push(await services.reserve(id, alloc(n), PLAN, NOW, `tok-${n}`));
    expect(results).toEqual(['reserved', 'reserved', 'reserved', 'full']);
    expect(await holdIds(id)).toEqual([alloc(1), alloc(2), alloc(3)]);
    const state = await services.state(id);
    expect(state?.holds[alloc(2)]).toEqual({ planId: PLAN, since: NOW, token: 'tok-2' });
  });

  it('with 25 reservations racing for 3 places, exactly 3 win', async () => {
    const id = await seeded(3);
    const results = await Promise.all(Array.from({ length: 25 }, (_, n) => services.reserve(id, alloc(n + 1), PLAN, NOW, `tok-${n}`)));
    expect(results.filter((r) => r === 'reserved')).toHaveLength(3);
    expect(results.filter((r) => r === 'full')).toHaveLength(22);
    expect(await holdIds(id)).toHaveLength(3);
  });

  it('a capacity of 0 takes nobody', async () => {
    const id = await seeded(0);
    expect(await services.reserve(id, alloc(1), PLAN, NOW, 'tok')).toBe('full');
    expect(await holdIds(id)).toEqual([]);
  });

  it('answers closed for a temporarily-closed service, even with room', async () => {
    const closed = await seeded(5, 'temporarily-closed');
    expect(await services.reserve(closed, alloc(1), PLAN, NOW, 'tok')).toBe('closed');
    expect(await holdIds(closed)).toEqual([]);
    const open = sid('closing');
    await services.seed(directoryOf([{ id: open, capacity: 5 }]), NOW);
    await services.update(open, { status: 'temporarily-closed' }, 'team-lead-1', LATER);
    expect(await services.reserve(open, alloc(2), PLAN, NOW, 'tok')).toBe('closed');
  });

  it('answers unknown-service for a service with no state', async () => {
    expect(await services.reserve(sid('nowhere'), alloc(1), PLAN, NOW, 'tok')).toBe('unknown-service');
  });

  it('is idempotent for the same token; the same allocation id with another token is reported as held by another execution', async () => {
    const id = await seeded(2);
    expect(await services.reserve(id, alloc(1), PLAN, NOW, 'tok-a')).toBe('reserved');
    expect(await services.reserve(id, alloc(1), PLAN, LATER, 'tok-a')).toBe('already-held');
    expect(await services.reserve(id, alloc(1), PLAN, LATER, 'tok-b')).toBe('held-by-another-execution');
    // The first hold is untouched by either retry.
    expect((await services.state(id))?.holds[alloc(1)]).toEqual({ planId: PLAN, since: NOW, token: 'tok-a' });
    expect(await holdIds(id)).toEqual([alloc(1)]);
    // Once the service is full, the holder's retry is still recognised as its own.
    expect(await services.reserve(id, alloc(2), PLAN, NOW, 'tok-c')).toBe('reserved');
    expect(await services.reserve(id, alloc(2), PLAN, NOW, 'tok-c')).toBe('already-held');
    expect(await services.reserve(id, alloc(1), PLAN, NOW, 'tok-a')).toBe('already-held');
  });
});

describe('release', () => {
  it('with a wrong token keeps the hold; with its own token removes it', async () => {
    const id = await seeded(2);
    await services.reserve(id, alloc(1), PLAN, NOW, 'tok-a');
    await services.release(id, alloc(1), 'tok-b');
    expect(await holdIds(id)).toEqual([alloc(1)]);
    await services.release(id, alloc(1), 'tok-a');
    expect(await holdIds(id)).toEqual([]);
  });

  it('without a token removes whatever hold the allocation has; twice is harmless', async () => {
    const id = await seeded(2);
    await services.reserve(id, alloc(1), PLAN, NOW, 'tok-a');
    await services.reserve(id, alloc(2), PLAN, NOW, 'tok-b');
    await services.release(id, alloc(1));
    expect(await holdIds(id)).toEqual([alloc(2)]);
    await services.release(id, alloc(1));
    await services.release(id, alloc(1), 'tok-a');
    expect(await holdIds(id)).toEqual([alloc(2)]);
    // The place is free again.
    expect(await services.reserve(id, alloc(3), PLAN, NOW, 'tok-c')).toBe('reserved');
    expect(await services.reserve(id, alloc(4), PLAN, NOW, 'tok-d')).toBe('full');
  });

  it('a hold that never was, or a service that does not exist, changes nothing and does not throw', async () => {
    const id = await seeded(1);
    const before = await services.state(id);
    await services.release(id, alloc(9));
    await services.release(id, alloc(9), 'tok');
    await services.release(sid('nowhere'), alloc(1));
    expect(await services.state(id)).toEqual(before);
    expect(await services.state(sid('nowhere'))).toBeUndefined();
  });
});

describe('update', () => {
  it('capacity below the holds keeps the holds but refuses new ones until enough are released', async () => {
    const id = await seeded(3);
    for (let n = 1; n <= 3; n += 1) await services.reserve(id, alloc(n), PLAN, NOW, `tok-${n}`);
    const updated = await services.update(id, { capacity: 1 }, 'team-lead-1', LATER);
    expect(updated).toMatchObject({ capacity: 1, status: 'active', updatedAt: LATER, updatedBy: 'team-lead-1' });
    expect(Object.keys(updated?.holds ?? {}).sort()).toEqual([alloc(1), alloc(2), alloc(3)]);
    expect(await services.reserve(id, alloc(4), PLAN, LATER, 'tok-4')).toBe('full');
    await services.release(id, alloc(1));
    await services.release(id, alloc(2));
    expect(await services.reserve(id, alloc(4), PLAN, LATER, 'tok-4')).toBe('full'); // 1 hold, capacity 1
    await services.release(id, alloc(3));
    expect(await services.reserve(id, alloc(4), PLAN, LATER, 'tok-4')).toBe('reserved');
  });

  it('re-opening a closed service lets it take reservations again; an unknown service gives undefined', async () => {
    const id = await seeded(2, 'temporarily-closed');
    expect(await services.reserve(id, alloc(1), PLAN, NOW, 'tok')).toBe('closed');
    expect(await services.update(id, { status: 'active', capacity: 1 }, 'team-lead-1', LATER)).toMatchObject({ status: 'active', capacity: 1 });
    expect(await services.reserve(id, alloc(1), PLAN, NOW, 'tok')).toBe('reserved');
    expect(await services.update(sid('nowhere'), { capacity: 4 }, 'team-lead-1', LATER)).toBeUndefined();
    expect(await services.state(sid('nowhere'))).toBeUndefined();
  });
});

describe('current', () => {
  it('merges the file with live capacity and status, counts holds as load, and seeds services missing from the table', async () => {
    const changed = sid('changed');
    const busy = sid('busy');
    const added = sid('added');
    await services.seed(directoryOf([{ id: changed, capacity: 3 }, { id: busy, capacity: 4 }]), NOW);
    await services.update(changed, { capacity: 7, status: 'temporarily-closed' }, 'team-lead-1', LATER);
    await services.reserve(busy, alloc(1), PLAN, NOW, 'tok-1');
    await services.reserve(busy, alloc(2), PLAN, NOW, 'tok-2');
    // The file: `changed` still says 3 and active, `added` is new and has no state yet.
    const file = directoryOf([{ id: changed, capacity: 3 }, { id: busy, capacity: 4 }, { id: added, capacity: 5 }]);
    expect(await services.state(added)).toBeUndefined();

    const { directory, load } = await services.current(file);
    const byId = new Map(directory.services.map((s) => [s.id, s]));
    expect(byId.get(changed)).toMatchObject({ capacity: 7, status: 'temporarily-closed', name: changed, needDomains: ['mental-health'] });
    expect(byId.get(busy)).toMatchObject({ capacity: 4, status: 'active' });
    expect(byId.get(added)).toMatchObject({ capacity: 5, status: 'active' });
    expect(load[busy]).toBe(2);
    expect(load[changed]).toBe(0);
    expect(load[added]).toBe(0);
    expect(directory.services.map((s) => s.id)).toEqual([changed, busy, added]);
    expect(directory.organizations).toEqual(file.organizations);
    // The missing service now has state of its own, with the file's values.
    expect(await services.state(added)).toMatchObject({ capacity: 5, status: 'active', holds: {} });
    // The file itself is not modified.
    expect(file.services[0]).toMatchObject({ capacity: 3, status: 'active' });
  });
});

describe('reconcileHolds', () => {
  const renamed = (plan: Plan, n: number): Plan => JSON.parse(JSON.stringify(plan).replaceAll('fixture00000001', `fixture0000000${n}`)) as Plan;

  it('releases holds no live allocation explains once older than 10 minutes, and keeps live and young ones', async () => {
    // Two saved plans: one allocating (an accepted allocation and open offers), one exited (all ended or withdrawn).
    const live = planInStage('allocating').plan as Plan;
    const exited = renamed(planInStage('exited').plan as Plan, 2);
    await client.send(new PutCommand({ TableName: TABLE, Item: planToItem(live) }));
    await client.send(new PutCommand({ TableName: TABLE, Item: planToItem(exited) }));
    await services.seed(FIXTURE_DIRECTORY, NOW);

    const old = '2026-03-02T09:00:00.000Z';
    const now = '2026-03-02T10:00:00.000Z';
    const young = '2026-03-02T09:55:00.000Z';
    const liveAllocations = live.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted');
    expect(liveAllocations.length).toBeGreaterThanOrEqual(3);
    expect(liveAllocations.some((a) => a.status === 'accepted')).toBe(true);
    expect(exited.allocations.every((a) => a.status !== 'offered' && a.status !== 'accepted')).toBe(true);
    for (const a of liveAllocations) expect(await services.reserve(a.serviceId, a.allocationId, live.planId, old, 'tok-live')).toBe('reserved');
    for (const a of exited.allocations) expect(await services.reserve(a.serviceId, a.allocationId, exited.planId, old, 'tok-exited')).toBe('reserved');
    const [first] = liveAllocations;
    if (!first) throw new Error('no live allocation');
    const otherService = FIXTURE_DIRECTORY.services.find((s) => s.id !== first.serviceId)?.id as string;
    const strays = [
      // No such plan (an execution that reserved and died before saving): old, so released.
      { serviceId: first.serviceId, allocationId: 'al_ghostplan00001_1', planId: 'pl_ghostplan00001', since: old, released: true },
      // No such plan, but young: its execution may still be running, so kept.
      { serviceId: first.serviceId, allocationId: 'al_ghostplan00002_1', planId: 'pl_ghostplan00002', since: young, released: false },
      // The live plan, but an allocation id it never saved.
      { serviceId: first.serviceId, allocationId: `al_${live.planId.slice(3)}_99`, planId: live.planId, since: old, released: true },
      // A live allocation id, but held on a service it is not on (a lost race that picked another service).
      { serviceId: otherService, allocationId: first.allocationId, planId: live.planId, since: old, released: true },
    ];
    for (const s of strays) await services.update(s.serviceId, { capacity: 100 }, 'test', old);
    for (const s of strays) expect(await services.reserve(s.serviceId, s.allocationId, s.planId, s.since, 'tok-stray')).toBe('reserved');

    const released = await reconcileHolds({ plans, services }, now);

    const expectedReleased = exited.allocations.length + strays.filter((s) => s.released).length;
    expect(released).toBe(expectedReleased);
    for (const a of liveAllocations) expect(await holdIds(a.serviceId)).toContain(a.allocationId);
    for (const a of exited.allocations) expect(await holdIds(a.serviceId)).not.toContain(a.allocationId);
    for (const s of strays) {
      const holds = (await services.state(s.serviceId))?.holds ?? {};
      const held = Object.entries(holds).some(([id, h]) => id === s.allocationId && h.planId === s.planId && h.token === 'tok-stray');
      expect({ ...s, held }).toEqual({ ...s, held: !s.released });
    }
    // A second pass finds nothing more to do.
    expect(await reconcileHolds({ plans, services }, now)).toBe(0);
  });
});
