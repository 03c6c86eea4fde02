import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, LIFECYCLE } from '../../lib/domain/lifecycle.ts';
import { STATE, TASK_BINDINGS } from '../../workflows/plan-command/definition.ts';
import { placeholderFunctionArn, renderPlanCommandAsl } from '../../workflows/plan-command/render.ts';
import { STEP_FUNCTIONS, type StepFunctionName } from '../../workflows/plan-command/steps.ts';
import { resolveDefinition, synthStack, type Synthesized } from '../infra/synth.ts';

type Json = Record<string, unknown>;
interface ChoiceRule extends Json {
  Next: string;
}

/** Replace every Task `Resource` (a Lambda ARN) with the step function it names, given how names are built. */
function normaliseResources(asl: Json, functionName: (step: StepFunctionName) => string): Json {
  const byArnName = new Map(STEP_FUNCTIONS.map((step) => [functionName(step), step]));
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const out: Json = {};
    for (const [key, v] of Object.entries(value)) out[key] = walk(v);
    if (out.Type === 'Task' && typeof out.Resource === 'string') {
      const name = /:function:([^:]+)$/.exec(out.Resource)?.[1];
      const step = name === undefined ? undefined : byArnName.get(name);
      if (!step) throw new Error(`Task Resource ${out.Resource} is not one of the step functions`);
      out.Resource = `step:${step}`;
    }
    return out;
  };
  return walk(asl) as Json;
}

function states(asl: Json): Record<string, Json> {
  return asl.States as Record<string, Json>;
}

describe('PlanCommand ASL', () => {
  let synthesized: Synthesized;
  let deployed: Json;
  let local: Json;

  beforeAll(() => {
    synthesized = synthStack('dev', { bundle: false });
    const machines = synthesized.template.findResources('AWS::StepFunctions::StateMachine');
    const [machine] = Object.values(machines) as { Properties: { DefinitionString: unknown } }[];
    if (!machine) throw new Error('no state machine in the template');
    deployed = resolveDefinition(synthesized.template, machine.Properties.DefinitionString);
    local = renderPlanCommandAsl();
  }, 120_000);

  afterAll(() => synthesized?.cleanup());

  it('the embedded stack runs exactly the definition the template deploys, function ARNs aside', () => {
    const prefix = synthesized.config.namePrefix;
    const fromTemplate = normaliseResources(deployed, (step) => `${prefix}-${step}`);
    const rendered = normaliseResources(local, (step) => placeholderFunctionArn(step).split(':function:')[1] as string);
    expect(rendered).toEqual(fromTemplate);
    // Not vacuous: every state came through.
    expect(Object.keys(states(rendered)).length).toBe(Object.keys(states(deployed)).length);
    expect(Object.keys(states(rendered)).length).toBeGreaterThan(COMMAND_NAMES.length);
  });

  it('is accepted by aws-local-stepfunctions without switching validation off', () => {
    expect(() => new StateMachine(renderPlanCommandAsl() as never)).not.toThrow();
  });

  it('Guard has one rule per lifecycle command, in the order of the lifecycle table', () => {
    const guard = states(local)[STATE.guard] as { Type: string; Choices: ChoiceRule[]; Default: string };
    expect(guard.Type).toBe('Choice');
    expect(guard.Choices).toHaveLength(COMMAND_NAMES.length);
    guard.Choices.forEach((rule, i) => {
      const name = COMMAND_NAMES[i] as (typeof COMMAND_NAMES)[number];
      const [commandTest, stageTest] = (rule.And as Json[]) ?? [];
      expect(commandTest).toEqual({ Variable: '$.command.name', StringEquals: name });
      const stages = LIFECYCLE[name].from as readonly string[];
      const allowed = stageTest?.Or ? (stageTest.Or as Json[]).map((c) => c.StringEquals) : [stageTest?.StringEquals];
      expect(allowed).toEqual([...stages]);
      expect(rule.Next).toBe(STATE.route);
    });
    // A refusal first asks whether the command's allocation has ended (then the refusal says so, in Load
    // plan's words), then whether her consent was withdrawn (then it says that), else explains the stage.
    expect(guard.Default).toBe(STATE.allocationClosed);
    const closed = states(local)[STATE.allocationClosed] as { Type: string; Choices: ChoiceRule[]; Default: string };
    expect(closed.Choices).toEqual([{ Variable: '$.allocationClosed', IsPresent: true, Next: STATE.explainAllocationClosed }]);
    expect(closed.Default).toBe(STATE.consentWithdrawn);
    expect(states(local)[STATE.explainAllocationClosed]).toMatchObject({ Type: 'Pass', Parameters: { 'Cause.$': '$.allocationClosed' }, ResultPath: '$.error' });
    const consent = states(local)[STATE.consentWithdrawn] as { Type: string; Choices: ChoiceRule[]; Default: string };
    expect(consent.Choices).toEqual([{ Variable: '$.consentWithdrawnAt', IsPresent: true, Next: STATE.explainConsentWithdrawn }]);
    expect(consent.Default).toBe(STATE.explainRefusal);
  });

  it('Route has one branch per command, each to that command\'s step', () => {
    const route = states(local)[STATE.route] as { Type: string; Choices: ChoiceRule[] };
    expect(route.Type).toBe('Choice');
    expect(route.Choices).toHaveLength(COMMAND_NAMES.length);
    expect(route.Choices.map((rule) => rule.StringEquals)).toEqual(COMMAND_NAMES);
    expect(route.Choices.map((rule) => rule.Next)).toEqual(COMMAND_NAMES.map((name) => LIFECYCLE[name].step));
  });

  it('every Task state is bound in TASK_BINDINGS, to the function its Resource names', () => {
    const tasks = Object.entries(states(local)).filter(([, state]) => state.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [name, state] of tasks) {
      expect(Object.keys(TASK_BINDINGS), `Task state "${name}"`).toContain(name);
      expect(state.Resource).toBe(placeholderFunctionArn(TASK_BINDINGS[name] as StepFunctionName));
    }
    // And nothing is bound that the machine does not have.
    expect(tasks.map(([name]) => name).sort()).toEqual(Object.keys(TASK_BINDINGS).sort());
  });
});
