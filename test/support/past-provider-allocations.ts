/**
 * Ended allocation records of one provider, written straight into the table: the history a provider
 * builds over years (its records are never deleted), for the tests of reads past one Query page.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchPut } from '../../lib/adapters/dynamodb/batch.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';

/** The i-th past allocation's id: it sorts before any real one (a plan id's suffix is 24 hex characters, almost never all zeros at the start). */
export const pastAllocationId = (i: number) => `al_000000${String(i).padStart(10, '0')}_1`;

/** `count` ended allocations of `providerId` on bcwa's domestic-abuse service; `fields` adds to (or replaces) each record's. */
export async function putPastProviderAllocations(client: DynamoDBDocumentClient, providerId: string, count: number, fields: Record<string, unknown> = {}): Promise<void> {
  const items = Array.from({ length: count }, (_, i) => ({
    ...keys.providerAllocation(providerId, pastAllocationId(i)),
    type: 'provider-allocation',
    providerId,
    allocationId: pastAllocationId(i),
    planRef: `pl_000000${String(i).padStart(10, '0')}`,
    status: 'ended',
    serviceId: 'bcwa-domestic-abuse',
    needs: [{ domain: 'domestic-abuse', level: 'medium' }],
    lead: true,
    sequence: 7,
    updatedAt: '2026-01-10T09:00:00.000Z',
    ...fields,
  }));
  await batchPut(client, TABLE_NAME_DEFAULT, items);
}
