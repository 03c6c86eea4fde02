/**
 * The local runner keeps the plan beside aws-local-stepfunctions (which copies the whole state at
 * every state) and hands it to each Task itself. Sound only while no path of the definition reads
 * those fields, and only if every Task, Catch and retry still sees the plan the last successful Task
 * returned: both checked here, with the committed definition and step handlers that record what they get.
 */
import { describe, expect, it } from 'vitest';
import { LocalWorkflowRunner, TASK_ONLY_FIELDS, type StepHandlers } from '../../lib/local/workflow-runner.ts';
import { planCommandAsl } from '../../workflows/plan-command/asl.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';

const plan = (version: number, outbox: unknown[] = [{ id: `ev_${version}` }]) => ({ planId: 'pl_runner', version, stage: 'referred', outbox }) as unknown as Plan;

function transientOnce() {
  let failed = false;
  return () => {
    if (failed) return;
    failed = true;
    throw Object.assign(new Error('injected: throttled'), { name: 'TransientStorageError' });
  };
}

function runner(options: { publishFails?: boolean; saveFailsOnce?: boolean } = {}) {
  const seen: Record<string, (Plan | undefined)[]> = {};
  const saw = (step: string, state: PlanCommandState) => (seen[step] ??= []).push(state.plan);
  const failSave = options.saveFailsOnce ? transientOnce() : () => {};
  const steps: StepHandlers = {
    'load-plan': async (state) => {
      saw('load-plan', state);
      const { loaded, ...rest } = state;
      return { ...rest, stage: 'referred', plan: loaded ?? plan(1) };
    },
    decide: async (state) => {
      saw('decide', state);
      return { ...state, plan: plan(2), changed: true, needsAllocation: false, status: 200 } as PlanCommandState;
    },
    'allocate-providers': async (state) => state,
    'save-plan': async (state) => {
      saw('save-plan', state);
      failSave();
      return { ...state, plan: { ...(state.plan as Plan), writtenBy: 'execution-1' } };
    },
    'publish-events': async (state) => {
      saw('publish-events', state);
      if (options.publishFails) throw new Error('the bus is down');
      return { ...state, plan: { ...(state.plan as Plan), outbox: [] } };
    },
  };
  return { runner: new LocalWorkflowRunner(planCommandAsl(), steps, 1), seen };
}

const consent = (loaded?: Plan) => ({ command: { name: 'record-consent' as const, planId: 'pl_runner', payload: {}, actor: { role: 'coordinator' as const, sub: 'c-1' } }, now: '2026-11-28T10:00:00.000Z', ...(loaded ? { loaded } : {}) });

describe('LocalWorkflowRunner: the plan beside the interpreter', () => {
  it('no path of the definition reads a field the runner keeps aside', () => {
    const text = JSON.stringify(planCommandAsl());
    expect(text).toMatch(/"\$\.stage"/); // the check below can find a path
    for (const field of TASK_ONLY_FIELDS) expect(text).not.toMatch(new RegExp(`\\$\\.${field}\\b`));
  });

  it('every Task gets the plan the last Task returned, and the execution ends with the published plan', async () => {
    const { runner: r, seen } = runner();
    const outcome = await r.startSync(consent());
    expect(outcome.status).toBe('SUCCEEDED');
    expect(seen['load-plan']).toEqual([undefined]);
    expect(seen.decide).toEqual([plan(1)]);
    expect(seen['save-plan']).toEqual([plan(2)]);
    expect(seen['publish-events']).toEqual([{ ...plan(2), writtenBy: 'execution-1' }]);
    expect(outcome.status === 'SUCCEEDED' && outcome.output.plan).toEqual({ ...plan(2), writtenBy: 'execution-1', outbox: [] });
    expect(outcome.status === 'SUCCEEDED' && outcome.output.status).toBe(200);
  });

  it('a plan passed in by the API reaches Load plan', async () => {
    const { runner: r, seen } = runner();
    expect((await r.startSync(consent(plan(7)))).status).toBe('SUCCEEDED');
    expect(seen.decide).toEqual([plan(7)]);
  });

  it('after a caught failure the state keeps the plan the last successful Task returned; a retried Task gets the same plan again', async () => {
    const { runner: r, seen } = runner({ publishFails: true, saveFailsOnce: true });
    const outcome = await r.startSync(consent());
    expect(outcome.status).toBe('SUCCEEDED');
    expect(seen['save-plan']).toEqual([plan(2), plan(2)]);
    expect(outcome.status === 'SUCCEEDED' && outcome.output.plan).toEqual({ ...plan(2), writtenBy: 'execution-1' });
    expect(outcome.status === 'SUCCEEDED' && (outcome.output as unknown as Record<string, unknown>).publishError).toBeDefined();
  });
});
