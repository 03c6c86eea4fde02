import { randomUUID } from 'node:crypto';
import type { DirectoryStore } from '../adapters/dynamodb/directory-store.ts';
import type { Allocation, Plan } from '../domain/schemas.ts';

/** Offers this execution created: not in the plan it started from. */
export function newOffers(before: Plan | undefined, after: Plan): Allocation[] {
  const known = new Set((before?.allocations ?? []).map((a) => a.allocationId));
  return after.allocations.filter((a) => a.status === 'offered' && !known.has(a.allocationId));
}

export const newHoldToken = () => randomUUID();

/**
 * Reserve a place for each new offer. All or nothing: if one service turns out full (another plan
 * took its last place since the directory was read), the places taken here are given back and the
 * names of the full services returned, so the caller can allocate again without them.
 */
export async function reserveAll(services: DirectoryStore, offers: Allocation[], planId: string, now: string, token: string): Promise<{ ok: true } | { ok: false; full: string[] }> {
  const results = await Promise.all(offers.map(async (a) => ({ a, result: await services.reserve(a.serviceId, a.allocationId, planId, now, token) })));
  const failed = results.filter((r) => r.result !== 'reserved' && r.result !== 'already-held');
  if (failed.length === 0) return { ok: true };
  await Promise.all(results.filter((r) => r.result === 'reserved').map((r) => services.release(r.a.serviceId, r.a.allocationId, token)));
  return { ok: false, full: failed.map((r) => r.a.serviceId) };
}
