import { allocationClosedRefusal } from '../../lib/domain/allocation-closed.ts';
import { consentWithdrawnAt } from '../../lib/domain/consent.ts';
import { isAllowedIn } from '../../lib/domain/lifecycle.ts';
import { DomainError, notFound } from '../../lib/domain/errors.ts';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { asStep, metricFactsKey } from '../../lib/runtime/step-deps.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';
import { newHoldToken } from '../../lib/runtime/capacity.ts';

/** Load plan: read the plan (consistently), and spot a retried Idempotency-Key before anything else. */
export function makeHandler(deps: { plans: PlanRepository }) {
  return (state: PlanCommandState): Promise<PlanCommandState> =>
    asStep(async () => {
      const { command, loaded, ...rest } = state;
      const plan = loaded ?? (await deps.plans.getPlan(command.planId));
      if (plan && command.idempotency) {
        const applied = plan.applied.find((a) => a.key === command.idempotency?.key);
        if (applied) {
          if (applied.fingerprint !== command.idempotency.fingerprint)
            throw new DomainError('IdempotencyKeyReused', `Idempotency-Key "${applied.key}" was already used for a different ${applied.command} request.`, [{ path: 'Idempotency-Key', message: 'already used for a different request' }]);
          return { ...rest, command, stage: plan.stage, plan, replay: { status: applied.status, version: applied.version } };
        }
      }
      if (!plan && command.name !== 'refer') throw notFound(`No plan ${command.planId}.`);
      // The stored facts are those of this plan only once its outbox is empty (Publish events writes
      // the facts before it clears the outbox); then an unchanged digest lets Publish events skip the write.
      const factsBefore = plan && plan.outbox.length === 0 ? metricFactsKey(plan) : undefined;
      // One token per execution names the capacity it reserves, so a retried step finds its own holds.
      // Beside the stage, for the Guard: a command refused on a plan whose consent was withdrawn says that is why.
      const withdrawnAt = plan && consentWithdrawnAt(plan);
      // And a command on an allocation the stage refuses: the allocation has ended (when, and that nothing more can be done).
      const allocationClosed = plan && !isAllowedIn(command.name, plan.stage) ? allocationClosedRefusal(plan, command) : undefined;
      return { ...rest, command, stage: plan?.stage ?? 'none', ...(withdrawnAt ? { consentWithdrawnAt: withdrawnAt } : {}), ...(allocationClosed ? { allocationClosed } : {}), ...(plan ? { plan } : {}), ...(factsBefore ? { factsBefore } : {}), holdToken: state.holdToken ?? newHoldToken() };
    });
}

export const handler = lazyStepHandler((deps) => makeHandler(deps));
