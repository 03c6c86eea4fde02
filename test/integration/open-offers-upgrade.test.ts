/**
 * A data directory from before the open-offer key: its offered allocation views have no key, and the
 * table no marker saying every offer is keyed. Restarted on this release, over real HTTP, the provider's
 * inbox (GET /providers/{id}/offers) still lists those offers, soonest deadline first, before and after
 * the sweeper's pass has keyed them; an offer accepted afterwards leaves it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { anotherParticipant, consent, controllableClock, referral, START, wrapStack, type Json, type TestStack } from '../support/http.ts';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';

let dir: string;
let t: TestStack;
let offers: Json[];

async function start(dataDir: string): Promise<TestStack> {
  const clock = controllableClock(START);
  return wrapStack(await startEmbeddedStack({ dataDir, inMemory: false, port: 0, sweepIntervalMs: 0, clock, publisher: { publish: async () => undefined }, webDistDir: false }), clock);
}

const inbox = async (): Promise<Json[]> => {
  const res = await t.call('GET', '/providers/bcwa/offers', { token: t.provider('bcwa') });
  expect(res.status, res.text).toBe(200);
  return res.json.items as Json[];
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wraparound-open-offers-'));
  t = await start(dir);
  // Two plans, each with needs offered to bcwa.
  for (const needs of [[{ domain: 'domestic-abuse', level: 'high', priority: true }], [{ domain: 'domestic-abuse', level: 'medium', priority: true }]]) {
    const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
    expect(created.status, created.text).toBe(201);
    const planId = created.json.planId as string;
    expect((await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(START.slice(0, 10)) })).status).toBe(200);
    expect((await t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body: { needs } })).status).toBe(200);
  }
  offers = await inbox();
  expect(offers.length).toBeGreaterThanOrEqual(2);
  // Back to how a release before the key stored them: no key on the views, no marker on the table.
  const { client, tableName } = t.stack.plans;
  for (const offer of offers)
    await client.send(new UpdateCommand({ TableName: tableName, Key: keys.providerAllocation('bcwa', offer.allocationId as string), UpdateExpression: 'REMOVE pendingPk, pendingSk' }));
  await client.send(new DeleteCommand({ TableName: tableName, Key: keys.openOfferIndexMarker() }));
  await t.stop();
  t = await start(dir);
}, 120_000);
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('an older data directory started on this release', () => {
  it('keeps its offers in the inbox, soonest deadline first, before the sweeper has keyed them', async () => {
    const marker = await t.stack.plans.client.send(new GetCommand({ TableName: t.stack.plans.tableName, Key: keys.openOfferIndexMarker(), ConsistentRead: true }));
    expect(marker.Item, 'a table that was already there is not marked at start').toBeUndefined();
    const listed = await inbox();
    expect(listed).toEqual(offers);
    const deadlines = listed.map((o) => String(o.respondBy));
    expect(deadlines).toEqual([...deadlines].sort());
  });

  it('keeps them once the sweeper has keyed them, and an accepted one leaves the inbox', async () => {
    const report = await t.stack.sweep();
    expect(report.failedSteps).toEqual([]);
    expect(report.openOffersIndexed).toBe(offers.length);
    expect(await t.stack.plans.openOffersIndexed()).toBe(true);
    expect(await inbox()).toEqual(offers);
    const accepted = offers[0]!.allocationId as string;
    expect((await t.call('POST', `/allocations/${accepted}/accept`, { token: t.provider('bcwa'), body: {} })).status).toBe(200);
    expect((await inbox()).map((o) => o.allocationId)).toEqual(offers.slice(1).map((o) => o.allocationId));
    // A later sweep keys nothing more.
    expect((await t.stack.sweep()).openOffersIndexed).toBeUndefined();
  });
});
