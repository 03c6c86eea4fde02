/**
 * A stored fact item that parses but is not facts (a hand edit that kept only a version, say) is left out
 * of the figures like one that does not parse, on a real dynalite: before, it passed the "is an object"
 * check and failed the whole read where the fact table walks its lists, so every GET /metrics on AWS was a 500.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { FACTS_SCHEMA_VERSION, planFacts } from '../../lib/domain/metrics/facts.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import { FactStore, metricsKeys } from '../../lib/metrics/fact-store.ts';
import { StoredFactsSource } from '../../lib/metrics/index.ts';
import { PARTNERS, planInStage } from '../support/domain-fixtures.ts';

const TABLE = 'wraparound-fact-store-damaged-test';

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;
let facts: FactStore;

beforeEach(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 3 });
  facts = new FactStore(client, TABLE);
});
afterEach(async () => {
  client?.destroy();
  await store?.close();
});

const putFacts = (planId: string, stored: string) =>
  client.send(new PutCommand({ TableName: TABLE, Item: { ...metricsKeys.facts(planId), type: 'metrics-facts', schema: FACTS_SCHEMA_VERSION, version: 2, facts: stored } }));

describe('stored facts that parse but are not facts', () => {
  it.each([
    ['only a version', '{"version":2}'],
    ['an offer without its needs', null],
  ])('are left out and named (%s), not a failed read', async (_, damaged) => {
    const { plan } = planInStage('active');
    if (!plan) throw new Error('no active plan');
    const good = planFacts(plan);
    await facts.markComplete('2027-01-01T00:00:00.000Z');
    await facts.put('pl_good', good);
    const broken = damaged ?? JSON.stringify({ ...good, offers: good.offers.map(({ needs: _needs, ...offer }) => offer) });
    expect(good.offers.length, 'the fixture plan has offers').toBeGreaterThan(0);
    await putFacts('pl_damaged', broken);

    const warnings: unknown[] = [];
    const source = new StoredFactsSource(facts, PARTNERS, { maxAgeMs: 0, warn: (message, details) => warnings.push({ message, details }) });
    const snapshot = await source.snapshot();
    expect([...snapshot.facts].map((f) => f.version)).toEqual([good.version]);
    expect(snapshot.incomplete).toEqual({ reason: expect.stringContaining('The stored facts of one plan could not be read'), staleFacts: 1 });
    expect(warnings).toEqual([{ message: expect.stringContaining('cannot be read'), details: { plans: 1, planIds: ['pl_damaged'] } }]);
  });
});
