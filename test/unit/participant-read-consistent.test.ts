/**
 * A provider's read of her contact details decides on the plan as it is now: the plan is read
 * consistently, so a consent withdrawn a moment ago (which an eventually consistent DynamoDB read may
 * not show yet) already refuses it. The store here answers as DynamoDB may: its eventually consistent
 * read still holds the plan from before the withdrawal.
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler, type QueryApiDeps } from '../../functions/api-queries/handler.ts';
import type { AuditRecord } from '../../lib/adapters/dynamodb/audit-record.ts';
import type { Participant, Plan } from '../../lib/domain/schemas.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';

const PLAN_ID = 'pl_fixture0000000001';
const ALLOCATION_ID = `al_fixture0000000001_1`;

function planWithConsent(withdrawnAt?: string): Plan {
  return {
    planId: PLAN_ID,
    participantId: 'pt_fixture',
    stage: 'active',
    consent: { scope: { shareWithProviders: true, dataCategories: ['needs', 'contact-details'] }, givenAt: '2026-03-02', method: 'written', recordedAt: '2026-03-02T10:00:00.000Z', ...(withdrawnAt ? { withdrawnAt } : {}) },
    allocations: [{ allocationId: ALLOCATION_ID, providerId: 'bcwa', serviceId: 'bcwa-outreach', needs: ['domestic-abuse'], status: 'accepted', lead: true, offeredAt: '2026-03-02T10:00:00.000Z', respondBy: '2026-03-04T17:00:00.000Z', why: 'closest' }],
  } as unknown as Plan;
}

const identity: Participant = { givenName: 'Jasmine', familyName: 'Okonkwo-Blythe', dateOfBirth: '1991-07-14', contact: { phone: '07700 900123' } };

function handlerOverLaggingStore() {
  const audited: AuditRecord[] = [];
  const plans = {
    // The latest write withdrew consent; an eventually consistent read may still return the plan before it.
    getPlan: async (_planId: string, consistent = true) => (consistent ? planWithConsent('2026-03-05T09:00:00.000Z') : planWithConsent()),
    getIdentity: async () => identity,
  };
  const audit = { record: async (r: AuditRecord) => void audited.push(r) };
  const handler = makeHandler({ plans, audit, clock: () => '2026-03-05T09:00:00.500Z' } as unknown as QueryApiDeps);
  return { handler, audited };
}

function providerGet(path: string) {
  return lambdaEvent({ routeKey: 'GET /allocations/{allocationId}/participant', rawPath: path, pathParameters: { allocationId: ALLOCATION_ID }, claims: CLAIMS.provider('bcwa') });
}

describe('GET /allocations/{id}/participant right after consent is withdrawn', () => {
  it('refuses (403, consent withdrawn) and gives no contact details, even where a lagging read would still show consent', async () => {
    const { handler, audited } = handlerOverLaggingStore();
    const result = await handler(providerGet(`/allocations/${ALLOCATION_ID}/participant`), {} as Context);
    expect(result.statusCode).toBe(403);
    expect(result.body).not.toContain('07700 900123');
    expect(audited.map((r) => r.action)).toEqual(['read-participant-contact-refused:consent-withdrawn']);
  });
});
