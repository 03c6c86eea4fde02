import { allocatePlan } from '../../lib/domain/allocate-plan.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { asStep, decideContext, type StepDeps } from '../../lib/runtime/step-deps.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';

/** Allocate providers: offers for every open need nobody holds, with the reasons for each gap. */
export function makeHandler(deps: StepDeps) {
  return (state: PlanCommandState): Promise<PlanCommandState> =>
    asStep(async () => {
      if (!state.plan) throw new Error('Allocate providers needs a plan');
      const [ctx, load] = await Promise.all([decideContext(deps, state.now), deps.serviceLoad()]);
      const { plan } = allocatePlan(state.plan, ctx, load);
      return { ...state, plan };
    });
}

export const handler = lazyStepHandler((deps) => makeHandler(deps));
