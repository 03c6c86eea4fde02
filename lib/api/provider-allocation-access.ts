import type { Allocation, Plan } from '../domain/schemas.ts';
import { problem } from './http.ts';

/**
 * What a provider is told about an allocation id it does not hold: exactly what an unknown id gets.
 * Allocation ids are numbered in order on their plan, so a different answer for another provider's
 * allocation (a 403 "held by another provider") would let a provider count the other providers on a
 * plan it serves. Every provider-facing allocation route answers this way (its read, its commands, her
 * contact details); the audit log still records a refused attempt where the route recorded it before.
 */
export const noSuchAllocation = (allocationId: string) => problem(404, `No allocation ${allocationId}.`);

/** The allocation `providerId` holds on the plan, or the 404 of an unknown allocation (another provider's included). */
export function allocationHeldBy(plan: Plan | undefined, allocationId: string, providerId: string | undefined): Allocation {
  const held = plan?.allocations.find((a) => a.allocationId === allocationId);
  if (!held || held.providerId !== providerId) throw noSuchAllocation(allocationId);
  return held;
}

/** Why a provider may not send `expectedVersion` (the 400's words, and the OpenAPI document's). */
export const PROVIDER_EXPECTED_VERSION_RULE =
  "is not accepted from a provider: the plan's version is not shown to providers. A provider's command is checked against its allocation as it stands (an offer no longer open, or an allocation no longer accepted, is a 409)";

/**
 * `expectedVersion` is the plan's version, which providers cannot read (their views carry none) and
 * which counts every change to her plan: a provider sending it is refused (400 naming it), before
 * anything is recorded, rather than answered 409 with the plan's version in the words.
 */
export function refuseExpectedVersionFromProvider(role: string | undefined, expectedVersion: number | undefined): void {
  if (role === 'provider' && expectedVersion !== undefined) throw problem(400, `expectedVersion: ${PROVIDER_EXPECTED_VERSION_RULE}.`, [{ path: 'expectedVersion', message: PROVIDER_EXPECTED_VERSION_RULE }]);
}
