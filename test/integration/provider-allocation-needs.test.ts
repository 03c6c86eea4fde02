/**
 * The needs of a provider's allocations have one shape whatever the status (GET /providers/{id}/allocations
 * and /offers): a list of objects with the domain, and the level where the offer said it. The accepted and
 * declined events carry bare domains, and records stored before were kept so: they read in the same shape.
 * The OpenAPI document types them from the same zod schema. Over real HTTP on the embedded stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchPut } from '../../lib/adapters/dynamodb/batch.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';
import { NEED_DOMAINS } from '../../lib/domain/taxonomy.ts';
import { openApiDocument } from '../../lib/api/openapi.ts';
import { anotherParticipant, consent, referral, startTestStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

/** Two offers to bcwa (domestic-abuse, thinking-behaviour), a third need for someone else. */
async function twoOffersToBcwa(): Promise<Json[]> {
  const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant(), referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' } }) });
  expect(created.status, created.text).toBe(201);
  const planId = created.json.planId as string;
  expect((await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) })).status).toBe(200);
  const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, {
    token: t.coordinator,
    body: {
      needs: [
        { domain: 'domestic-abuse', level: 'high', priority: true },
        { domain: 'thinking-behaviour', level: 'low', priority: false },
      ],
    },
  });
  expect(assessed.status, assessed.text).toBe(200);
  const offers = (assessed.json.allocations as Json[]).filter((a) => a.providerId === 'bcwa');
  expect(offers).toHaveLength(2);
  return offers;
}

async function listed(path: string): Promise<Map<string, Json>> {
  const res = await t.call('GET', path, { token: t.provider('bcwa') });
  expect(res.status, res.text).toBe(200);
  return new Map((res.json.items as Json[]).map((i) => [i.allocationId as string, i]));
}

describe("the needs of a provider's allocations", () => {
  it('are objects with a domain, whatever the status: offered, accepted, declined', async () => {
    const [first, second] = await twoOffersToBcwa();
    const offered = await listed('/providers/bcwa/offers');
    expect(offered.get(first.allocationId)?.needs).toEqual(first.needs.map((domain: string) => ({ domain, level: expect.any(String) })));
    const bcwa = t.provider('bcwa');
    expect((await t.call('POST', `/allocations/${first.allocationId}/accept`, { token: bcwa, body: {} })).status).toBe(200);
    expect((await t.call('POST', `/allocations/${second.allocationId}/decline`, { token: bcwa, body: { reason: 'capacity' } })).status).toBe(200);
    const rows = await listed('/providers/bcwa/allocations?limit=200');
    expect(rows.get(first.allocationId)).toMatchObject({ status: 'accepted', needs: first.needs.map((domain: string) => ({ domain })) });
    expect(rows.get(second.allocationId)).toMatchObject({ status: 'declined', needs: second.needs.map((domain: string) => ({ domain })) });
    for (const row of rows.values()) for (const need of row.needs as unknown[]) expect(need).toEqual({ domain: expect.any(String), ...((need as Json).level ? { level: expect.any(String) } : {}) });
  });

  it('read a record stored with bare domains in the same shape', async () => {
    const allocationId = 'al_0000000000aaaaaaaaaaaaaa_3';
    await batchPut(t.stack.plans.client, TABLE_NAME_DEFAULT, [
      {
        ...keys.providerAllocation('bcwa', allocationId),
        type: 'provider-allocation',
        providerId: 'bcwa',
        allocationId,
        planRef: 'pl_0000000000aaaaaaaaaaaaaa',
        status: 'declined',
        serviceId: 'bcwa-domestic-abuse',
        needs: ['thinking-behaviour', 'domestic-abuse'],
        lead: false,
        sequence: 9,
        updatedAt: '2026-02-01T10:00:00.000Z',
      },
    ]);
    const rows = await listed('/providers/bcwa/allocations?status=declined&limit=200');
    expect(rows.get(allocationId)?.needs).toEqual([{ domain: 'thinking-behaviour' }, { domain: 'domestic-abuse' }]);
  });

  it('are typed in the OpenAPI document: a list of objects with a need domain and an optional level', () => {
    const doc = openApiDocument() as Json;
    for (const id of ['ProviderOffers', 'ProviderAllocationList']) {
      const needs = doc.components.schemas[id].properties.items.items.properties.needs;
      expect(needs.type, id).toBe('array');
      const need = needs.items.$ref ? doc.components.schemas[needs.items.$ref.split('/').at(-1)] : needs.items;
      expect(need.type).toBe('object');
      expect(need.required).toEqual(['domain']);
      expect(need.properties.domain.enum).toEqual([...NEED_DOMAINS]);
      expect(need.properties.level.enum).toEqual(['low', 'medium', 'high']);
    }
  });
});
