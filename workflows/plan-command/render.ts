import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { aslFileText, PLAN_COMMAND_ASL_FILE, placeholderFunctionArn } from './asl.ts';
import { definePlanCommand, type StepFunctions } from './definition.ts';
import { STEP_FUNCTIONS } from './steps.ts';

export { PLACEHOLDER_FUNCTION_ARN_PREFIX, placeholderFunctionArn } from './asl.ts';

/**
 * The PlanCommand definition as Amazon States Language, rendered from the very chain the CDK stack
 * deploys, so the embedded stack runs exactly what AWS would. Task `Resource`s point at placeholder
 * functions; the embedded runner binds Task states to step handlers by them.
 *
 * This loads aws-cdk-lib, so the embedded stack does not call it: it reads the rendered file
 * (workflows/plan-command/asl.ts). `npm run render:asl` (`node workflows/plan-command/render.ts`)
 * writes that file.
 */
export function renderPlanCommandAsl(): Record<string, unknown> {
  // A throwaway app that is never synthesized. Pointing outdir at an existing directory stops the
  // app from making (and leaving behind, if the process is killed) a temporary cloud assembly dir.
  const app = new App({ autoSynth: false, outdir: tmpdir(), treeMetadata: false });
  const stack = new Stack(app, 'PlanCommandAsl');
  const functions = Object.fromEntries(
    STEP_FUNCTIONS.map((name) => [name, lambda.Function.fromFunctionArn(stack, `fn-${name}`, placeholderFunctionArn(name))]),
  ) as StepFunctions;
  const chain = definePlanCommand(stack, functions);
  // The same call the StateMachine construct makes for DefinitionBody.fromChainable.
  const graph = new sfn.StateGraph(chain.startState, 'PlanCommand');
  return stack.resolve(graph.toGraphJson()) as Record<string, unknown>;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(PLAN_COMMAND_ASL_FILE, aslFileText(renderPlanCommandAsl()));
  console.log(`wrote ${fileURLToPath(PLAN_COMMAND_ASL_FILE)}`);
}
