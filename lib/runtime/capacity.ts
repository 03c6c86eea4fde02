import { randomUUID } from 'node:crypto';
import type { DirectoryStore } from '../adapters/dynamodb/directory-store.ts';
import type { Allocation, Plan } from '../domain/schemas.ts';
import { versionConflict } from '../domain/errors.ts';

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
  const settled = await Promise.allSettled(offers.map((a) => services.reserve(a.serviceId, a.allocationId, planId, now, token)));
  const giveBack = () => Promise.all(offers.filter((_, i) => settled[i]?.status === 'fulfilled' && settled[i].value === 'reserved').map((a) => services.release(a.serviceId, a.allocationId, token)));
  const thrown = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (thrown) {
    // A storage error on one reservation: give back the places taken, then let the step be retried.
    await giveBack();
    throw thrown.reason;
  }
  const results = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<DirectoryStore['reserve']>>>).value);
  if (results.includes('held-by-another-execution')) {
    // Another execution for this plan numbered its offer the same: the plan is being changed concurrently.
    await giveBack();
    throw versionConflict(`Plan ${planId} is being changed by another command at the same time: reload it and try again.`);
  }
  const failed = offers.filter((_, i) => results[i] !== 'reserved' && results[i] !== 'already-held');
  if (failed.length === 0) return { ok: true };
  await giveBack();
  return { ok: false, full: failed.map((a) => a.serviceId) };
}
