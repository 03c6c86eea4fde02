import { decide } from '../../lib/domain/decide.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { asStep, decideContext, type StepDeps } from '../../lib/runtime/step-deps.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';

/** Every command's step runs this: the pure domain decides the next plan and its events. */
export function makeHandler(deps: StepDeps) {
  return (state: PlanCommandState): Promise<PlanCommandState> =>
    asStep(async () => {
      const decision = decide(state.plan, state.command, await decideContext(deps, state.now));
      return { ...state, plan: decision.plan, changed: decision.changed, needsAllocation: decision.needsAllocation, status: decision.status };
    });
}

export const handler = lazyStepHandler((deps) => makeHandler(deps));
