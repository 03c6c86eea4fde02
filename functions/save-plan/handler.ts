import { DomainError } from '../../lib/domain/errors.ts';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import type { DirectoryStore } from '../../lib/adapters/dynamodb/directory-store.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { asStep } from '../../lib/runtime/step-deps.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';

/** Save plan: the one conditional write of the command (plan, deadlines and outbox together). */
export function makeHandler(deps: { plans: PlanRepository; services: DirectoryStore }) {
  return (state: PlanCommandState): Promise<PlanCommandState> =>
    asStep(async () => {
      if (!state.plan) throw new Error('Save plan needs a plan');
      const plan = state.holdToken ? { ...state.plan, writtenBy: state.holdToken } : state.plan;
      try {
        await deps.plans.savePlan(plan);
      } catch (error) {
        if (error instanceof DomainError && error.name === 'VersionConflict' && state.holdToken) {
          // The plan was not saved, so the places this execution reserved belong to no offer: give them back.
          const token = state.holdToken;
          const mine = plan.allocations.filter((a) => a.status === 'offered' && a.offeredAt === state.now);
          await Promise.all(mine.map((a) => deps.services.release(a.serviceId, a.allocationId, token)));
        }
        throw error;
      }
      return { ...state, plan };
    });
}

export const handler = lazyStepHandler((deps) => makeHandler(deps));
