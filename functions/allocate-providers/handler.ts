import { allocatePlan } from '../../lib/domain/allocate-plan.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { asStep, decideContext, type StepDeps } from '../../lib/runtime/step-deps.ts';
import { newHoldToken, newOffers, reserveAll } from '../../lib/runtime/capacity.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';

/** How often to propose again when services fill up between reading the directory and reserving. */
const ATTEMPTS = 5;

/**
 * Allocate providers: offers for every open need nobody holds, with the reasons for each gap.
 * Each offer reserves a place on its service before the plan is saved; a service that filled up
 * meanwhile is treated as full and the proposal made again, so capacity is never exceeded.
 */
export function makeHandler(deps: StepDeps) {
  return (state: PlanCommandState): Promise<PlanCommandState> =>
    asStep(async () => {
      const before = state.plan;
      if (!before) throw new Error('Allocate providers needs a plan');
      const holdToken = state.holdToken ?? newHoldToken();
      const full = new Set<string>();
      for (let attempt = 1; ; attempt += 1) {
        const [ctx, current] = await Promise.all([decideContext(deps, state.now), deps.services.current(deps.baseDirectory)]);
        const load: Record<string, number> = { ...current.load };
        for (const s of current.directory.services) if (full.has(s.id)) load[s.id] = s.capacity;
        const { plan } = allocatePlan(before, { ...ctx, directory: current.directory }, load);
        const offers = newOffers(before, plan);
        // Two round trips per attempt: the directory read above (with the context, which reads nothing
        // here), then every offer's hold sent together. Together is safe: each hold is one conditional write
        // on its own service's item (room left, not held already), so no place is held twice whatever order
        // they land in, and reserveAll gives back the holds it took when any one is refused or fails.
        const reserved = await reserveAll(deps.services, offers, plan.planId, state.now, holdToken);
        if (reserved.ok) return { ...state, plan, holdToken };
        for (const s of reserved.full) full.add(s);
        if (attempt >= ATTEMPTS) throw Object.assign(new Error('services kept filling up while allocating'), { name: 'TransientStorageError' });
      }
    });
}

export const handler = lazyStepHandler((deps) => makeHandler(deps));
