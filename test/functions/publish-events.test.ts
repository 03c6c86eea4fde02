import { describe, expect, it } from 'vitest';
import { makeHandler as makeLoadPlan } from '../../functions/load-plan/handler.ts';
import { deliverOutbox, makeHandler as makePublish } from '../../functions/publish-events/handler.ts';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import type { CommandName } from '../../lib/domain/lifecycle.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { planInStage, run, validCommand } from '../support/domain-fixtures.ts';

/**
 * Load plan → the command → Publish events, with the storage faked: which writes Publish events makes.
 * The metric facts are written only when the command changed one of them, judged against the facts
 * of the plan as loaded, and only when those are known to be stored (its outbox was delivered).
 */
async function deliver(name: CommandName, options: { undeliveredBefore?: boolean } = {}) {
  const { plan: active, ctx } = planInStage('active');
  if (!active) throw new Error('no active plan');
  const loaded: Plan = options.undeliveredBefore ? active : { ...active, outbox: [] };
  const writes: string[] = [];
  const plans = {
    getPlan: async () => loaded,
    recordEvents: async () => void writes.push('history and feed'),
    projectProviderAllocation: async () => void writes.push('provider view'),
    clearOutbox: async () => void writes.push('clear outbox'),
    unindexEmptyOutbox: async () => void writes.push('unindex'),
  } as unknown as PlanRepository;
  const valid = validCommand(name, loaded, ctx);
  expect(valid.feasible).toBe(true);
  const state = await makeLoadPlan({ plans })({ command: valid.command, now: ctx.now });
  const saved = run(state.plan, valid.command, valid.ctx).plan;
  expect(saved.outbox.length).toBeGreaterThan(0);
  const publish = makePublish({ plans, publisher: { publish: async () => undefined }, onPlanSaved: async () => void writes.push('facts') });
  const after = await publish({ ...state, plan: saved });
  expect(after.plan?.outbox).toEqual([]);
  return writes;
}

describe('Publish events', () => {
  it('writes no metric facts for a contact (no figure changes), and still records and clears its events', async () => {
    expect(await deliver('record-contact')).toEqual(['history and feed', 'clear outbox']);
  });

  it('writes the facts for a command that changes a figure (a review)', async () => {
    expect(await deliver('record-review')).toContain('facts');
  });

  it('writes the facts when the plan was loaded with events still undelivered (their facts may never have been written)', async () => {
    expect(await deliver('record-contact', { undeliveredBefore: true })).toContain('facts');
  });

  it('stores history and feed, provider views and facts before the bus hears of the events, sending the three together', async () => {
    const { plan } = planInStage('active');
    const active = plan as Plan;
    expect(active.outbox.some((e) => e.providerId)).toBe(true);
    const started: string[] = [];
    const held: (() => void)[] = [];
    const hold = (name: string) => () =>
      new Promise<void>((resolve) => {
        started.push(name);
        held.push(resolve);
      });
    const published: string[][] = [];
    const plans = {
      recordEvents: hold('history and feed'),
      projectProviderAllocation: hold('provider view'),
      clearOutbox: async () => void started.push('clear outbox'),
    } as unknown as PlanRepository;
    const delivery = deliverOutbox(
      { plans, onPlanSaved: hold('facts'), publisher: { publish: async () => void published.push([...started]) } },
      active,
    );
    await new Promise((resolve) => setImmediate(resolve));
    // Every write is under way while none has been answered, and the bus has heard nothing.
    expect(new Set(started)).toEqual(new Set(['history and feed', 'provider view', 'facts']));
    expect(published).toEqual([]);
    for (const release of held) release();
    await delivery;
    expect(published).toHaveLength(1);
    expect(started.at(-1)).toBe('clear outbox');
  });

  it('the sweeper takes a plan whose outbox is empty but still indexed out of the index; right after a save there is nothing to unindex', async () => {
    const { plan } = planInStage('active');
    const emptied = { ...(plan as Plan), outbox: [] };
    const writes: string[] = [];
    const plans = { unindexEmptyOutbox: async () => void writes.push('unindex') } as unknown as PlanRepository;
    const deps = { plans, publisher: { publish: async () => void writes.push('published') } };
    await deliverOutbox(deps, emptied);
    expect(writes).toEqual(['unindex']);
    await makePublish(deps)({ command: { name: 'record-contact', planId: emptied.planId, payload: {}, actor: { role: 'coordinator', sub: 'c' } }, now: emptied.updatedAt, plan: emptied });
    expect(writes).toEqual(['unindex']);
  });
});
