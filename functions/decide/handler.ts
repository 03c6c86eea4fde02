import { decide } from '../../lib/domain/decide.ts';
import { invalid } from '../../lib/domain/errors.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { asStep, decideContext, type StepDeps } from '../../lib/runtime/step-deps.ts';
import { newHoldToken, newOffers, reserveAll } from '../../lib/runtime/capacity.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';

/** Every command's step runs this: the pure domain decides the next plan and its events. */
export function makeHandler(deps: StepDeps) {
  return (state: PlanCommandState): Promise<PlanCommandState> =>
    asStep(async () => {
      const manual = state.command.name === 'offer-manually';
      const decision = decide(state.plan, state.command, await decideContext(deps, state.now, manual));
      let holdToken = state.holdToken;
      const offers = newOffers(state.plan, decision.plan);
      if (offers.length > 0) {
        // A coordinator's override still cannot push a service over its capacity.
        holdToken ??= newHoldToken();
        const reserved = await reserveAll(deps.services, offers, decision.plan.planId, state.now, holdToken);
        if (!reserved.ok) throw invalid('serviceId', `service ${reserved.full.join(', ')} has no free place (full or temporarily closed)`);
      }
      return { ...state, plan: decision.plan, changed: decision.changed, needsAllocation: decision.needsAllocation, status: decision.status, ...(holdToken ? { holdToken } : {}) };
    });
}

export const handler = lazyStepHandler((deps) => makeHandler(deps));
