import { tmpdir } from 'node:os';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { definePlanCommand, type StepFunctions } from './definition.ts';
import { STEP_FUNCTIONS, type StepFunctionName } from './steps.ts';

/**
 * The PlanCommand definition as Amazon States Language, rendered from the very chain the CDK stack
 * deploys, so the embedded stack runs exactly what AWS would. Task `Resource`s point at placeholder
 * functions; the embedded runner binds Task states by name (TASK_BINDINGS), never by ARN.
 */
export const PLACEHOLDER_FUNCTION_ARN_PREFIX = 'arn:aws:lambda:eu-west-2:000000000000:function:wraparound-';

export function placeholderFunctionArn(name: StepFunctionName): string {
  return `${PLACEHOLDER_FUNCTION_ARN_PREFIX}${name}`;
}

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
