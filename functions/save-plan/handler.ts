import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { asStep } from '../../lib/runtime/step-deps.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';

/** Save plan: the one conditional write of the command (plan, deadlines and outbox together). */
export function makeHandler(deps: { plans: PlanRepository }) {
  return (state: PlanCommandState): Promise<PlanCommandState> =>
    asStep(async () => {
      if (!state.plan) throw new Error('Save plan needs a plan');
      await deps.plans.savePlan(state.plan);
      return state;
    });
}

export const handler = lazyStepHandler((deps) => makeHandler(deps));
