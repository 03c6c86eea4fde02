/**
 * A provider's open offers are read from its open-offer partition of byPending (keys.openOfferIndex),
 * not from every allocation record it ever had (records are never deleted). Against a real dynalite,
 * with a client middleware counting the items every Query and Scan read (their ScannedCount): a provider
 * with thousands of past records gets exactly its open offers for the few items they are; an offer that
 * is answered, expires or is withdrawn leaves the read; another provider's never appear; and offers
 * stored the old way (no key) are still read, the old way, until the sweeper's pass has keyed them.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexOpenOffers } from '../../functions/sweeper/open-offer-index.ts';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { PlanRepository, type ProviderAllocationRecord } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import { pastAllocationId, putPastProviderAllocations } from '../support/past-provider-allocations.ts';

const TABLE = TABLE_NAME_DEFAULT;
const PAST = 3_000;
const NOW = '2026-11-29T05:00:00.000Z';

/** A store of its own, made as the embedded stack makes it (so marked: every view keyed from the start), with a read counter. */
async function openStore() {
  const store: LocalStore = await startLocalStore({ inMemory: true, tableName: TABLE, process: 'in-process' });
  const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint });
  const reads = { items: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const command = (context as { commandName?: string }).commandName;
      if (command === 'QueryCommand' || command === 'ScanCommand') reads.items += (out.output as { ScannedCount?: number }).ScannedCount ?? 0;
      return out;
    },
    { step: 'initialize', name: 'countItemsRead' },
  );
  return { store, client, reads };
}

/** An allocation id on a plan of its own: after every past one (al_000000…). */
const allocationId = (plan: string, n = 1) => `al_${plan.padEnd(24, '0')}_${n}`;

function view(providerId: string, id: string, status: string, sequence: number, fields: Partial<ProviderAllocationRecord> = {}): ProviderAllocationRecord {
  return {
    providerId,
    allocationId: id,
    planRef: id.replace(/^al_/, 'pl_').replace(/_[0-9]+$/, ''),
    status,
    serviceId: `${providerId}-service`,
    needs: [{ domain: 'domestic-abuse', level: 'high' }],
    ...(status === 'offered' ? { respondBy: '2026-12-01T17:00:00.000Z' } : {}),
    lead: true,
    sequence,
    updatedAt: NOW,
    ...fields,
  };
}

/** An offered view as releases before the open-offer key stored it: the same item, without the key. */
async function putOldFormatOffer(client: ReturnType<typeof makeDocumentClient>, providerId: string, id: string, sequence = 4) {
  await client.send(new PutCommand({ TableName: TABLE, Item: { ...keys.providerAllocation(providerId, id), type: 'provider-allocation', ...view(providerId, id, 'offered', sequence) } }));
}

const ids = (records: readonly ProviderAllocationRecord[]) => records.map((r) => r.allocationId);

describe('open offers on a table keyed from the start', () => {
  let s: Awaited<ReturnType<typeof openStore>>;
  let plans: PlanRepository;
  const bcwaOffers = [allocationId('a1', 1), allocationId('a1', 2), allocationId('b2', 1)];
  const otherOffer = allocationId('c3', 1);
  beforeAll(async () => {
    s = await openStore();
    plans = new PlanRepository(s.client, TABLE);
    await putPastProviderAllocations(s.client, 'bcwa', PAST);
    for (const id of bcwaOffers) await plans.projectProviderAllocation(view('bcwa', id, 'offered', 1));
    await plans.projectProviderAllocation(view('changing-lives', otherOffer, 'offered', 1));
  }, 60_000);
  afterAll(async () => {
    s.client.destroy();
    await s.store.close();
  });

  it('gives a provider with thousands of past records exactly its open offers, reading only those', async () => {
    s.reads.items = 0;
    const offers = await plans.providerAllocations('bcwa', 'offered');
    expect(ids(offers)).toEqual(bcwaOffers);
    // The index entries, not the provider's 3,003 records: this fails if the read goes back to filtering them all.
    expect(s.reads.items).toBe(bcwaOffers.length);
    // The view as the provider sees it: none of the index's bookkeeping.
    expect(offers[0]).toEqual(view('bcwa', bcwaOffers[0]!, 'offered', 1));
    expect(ids(await plans.providerAllocations('changing-lives', 'offered'))).toEqual([otherOffer]);
    expect(await plans.providerAllocations('anawim', 'offered')).toEqual([]);
  });

  it('loses an offer from the read once it is accepted, declined, expired or withdrawn; a narrowing keeps it', async () => {
    const answered = { accepted: allocationId('d4'), declined: allocationId('e5'), expired: allocationId('f6'), withdrawn: allocationId('a7') };
    const narrowed = allocationId('b8');
    for (const id of [...Object.values(answered), narrowed]) await plans.projectProviderAllocation(view('bcwa', id, 'offered', 3));
    expect(ids(await plans.providerAllocations('bcwa', 'offered'))).toEqual(expect.arrayContaining([...Object.values(answered), narrowed]));
    for (const [status, id] of Object.entries(answered)) await plans.projectProviderAllocation(view('bcwa', id, status, 4));
    // A narrowing replaces the view with another offered one: still open.
    await plans.projectProviderAllocation(view('bcwa', narrowed, 'offered', 4, { needs: [{ domain: 'domestic-abuse' }] }));
    // An older event delivered late never overwrites a newer view, so it cannot bring an answered offer back.
    await plans.projectProviderAllocation(view('bcwa', answered.accepted, 'offered', 3));
    s.reads.items = 0;
    const offers = await plans.providerAllocations('bcwa', 'offered');
    expect(ids(offers).sort()).toEqual([...bcwaOffers, narrowed].sort());
    expect(s.reads.items).toBe(bcwaOffers.length + 1);
    const accepted = await plans.providerAllocationPage('bcwa', { status: 'accepted', limit: 10 });
    expect(accepted.items.find((r) => r.allocationId === answered.accepted)).toMatchObject({ status: 'accepted' });
    for (const id of Object.values(answered)) await plans.projectProviderAllocation(view('bcwa', id, 'ended', 5));
  });

  it('pages status=offered from the index in allocation order, with the cursor the table paging gives', async () => {
    s.reads.items = 0;
    const all = ids(await plans.providerAllocations('bcwa', 'offered'));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await plans.providerAllocationPage('bcwa', { status: 'offered', limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page.items));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual([...all].sort());
    expect(pages).toBe(Math.ceil(all.length / 2));
    // Each page reads one entry past its end at most: nothing of the past records.
    expect(s.reads.items).toBeLessThanOrEqual(all.length + pages * 3);
    // A cursor from the unfiltered paging (a past record's key) goes on from the same place.
    const fromTable = await plans.providerAllocationPage('bcwa', { limit: 1 });
    expect(ids(fromTable.items)).toEqual([pastAllocationId(0)]);
    expect(ids((await plans.providerAllocationPage('bcwa', { status: 'offered', limit: 10, cursor: fromTable.nextCursor! })).items)).toEqual([...all].sort());
  });
});

describe('open offers on a table from before the open-offer key', () => {
  let s: Awaited<ReturnType<typeof openStore>>;
  const oldOffers = [allocationId('a1'), allocationId('b2', 2)];
  const answeredOld = allocationId('c3');
  const movedOn = allocationId('d4');
  const newOffer = allocationId('e5');
  const marker = async () => (await s.client.send(new GetCommand({ TableName: TABLE, Key: keys.openOfferIndexMarker(), ConsistentRead: true }))).Item;
  beforeAll(async () => {
    s = await openStore();
    // As a deployed table or an older data directory: no marker, and offers stored without the key.
    await s.client.send(new DeleteCommand({ TableName: TABLE, Key: keys.openOfferIndexMarker() }));
    await putPastProviderAllocations(s.client, 'bcwa', PAST);
    for (const id of [...oldOffers, answeredOld, movedOn]) await putOldFormatOffer(s.client, 'bcwa', id);
    await putOldFormatOffer(s.client, 'changing-lives', allocationId('f6'));
    const plans = new PlanRepository(s.client, TABLE);
    // Answered after the upgrade: its new view (not offered) has no key, as it should.
    await plans.projectProviderAllocation(view('bcwa', answeredOld, 'declined', 5));
    // An offer made after the upgrade: keyed.
    await plans.projectProviderAllocation(view('bcwa', newOffer, 'offered', 1));
  }, 60_000);
  afterAll(async () => {
    s.client.destroy();
    await s.store.close();
  });

  it('still lists the offers stored the old way, reading every record, until the sweeper has keyed them', async () => {
    const plans = new PlanRepository(s.client, TABLE);
    s.reads.items = 0;
    expect(ids(await plans.providerAllocations('bcwa', 'offered'))).toEqual([...oldOffers, movedOn, newOffer]);
    expect(s.reads.items).toBeGreaterThan(PAST);
    expect(ids((await plans.providerAllocationPage('bcwa', { status: 'offered', limit: 50 })).items)).toEqual([...oldOffers, movedOn, newOffer]);
  });

  it('keys them after a settling time, a bounded share of the table a run, then reads only the open offers', async () => {
    const plans = new PlanRepository(s.client, TABLE);
    // First seen: the marker says when the walk starts; nothing is read before then.
    expect(await indexOpenOffers({ plans }, NOW, { settleMs: 3600_000 })).toEqual({ scanned: 0, indexed: 0, finished: false });
    expect(await marker()).toMatchObject({ done: false, walkFrom: '2026-11-29T06:00:00.000Z' });
    expect(await indexOpenOffers({ plans }, '2026-11-29T05:59:00.000Z', { settleMs: 3600_000 })).toMatchObject({ scanned: 0, finished: false });
    // An offer moved on between the walk's read and its write is left as its new view has it: not keyed by the walk.
    await plans.projectProviderAllocation(view('bcwa', movedOn, 'accepted', 6));
    expect(await plans.indexOpenOffer('bcwa', movedOn, 4)).toBe(false);
    const runs = [];
    let run;
    do {
      run = await indexOpenOffers({ plans }, '2026-11-29T06:00:00.000Z', { pageSize: 400, maxItems: 1000 });
      runs.push(run);
    } while (!run.finished && runs.length < 20);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.every((r) => r.scanned <= 1000)).toBe(true);
    expect(runs.reduce((n, r) => n + r.indexed, 0)).toBe(oldOffers.length + 1);
    expect(await marker()).toMatchObject({ done: true, indexed: oldOffers.length + 1 });
    const fresh = new PlanRepository(s.client, TABLE);
    s.reads.items = 0;
    expect(ids(await fresh.providerAllocations('bcwa', 'offered'))).toEqual([...oldOffers, newOffer]);
    expect(ids(await fresh.providerAllocations('changing-lives', 'offered'))).toEqual([allocationId('f6')]);
    expect(s.reads.items).toBe(oldOffers.length + 2);
    // Done: a later run reads nothing.
    s.reads.items = 0;
    expect(await indexOpenOffers({ plans: fresh }, '2026-11-29T07:00:00.000Z')).toEqual({ scanned: 0, indexed: 0, finished: true });
    expect(s.reads.items).toBe(0);
    // A keyed old offer answered later leaves the read like any other.
    await fresh.projectProviderAllocation(view('bcwa', oldOffers[0]!, 'accepted', 7));
    expect(ids(await fresh.providerAllocations('bcwa', 'offered'))).toEqual([oldOffers[1], newOffer]);
  });
});
