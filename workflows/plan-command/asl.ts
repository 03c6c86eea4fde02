import { readFileSync } from 'node:fs';
import { STEP_FUNCTIONS, type StepFunctionName } from './steps.ts';

/**
 * The PlanCommand ASL as the embedded stack runs it, read from plan-command.asl.json: rendered once by
 * `npm run render:asl` (workflows/plan-command/render.ts, from the very chain the CDK stack deploys) and
 * committed, so starting the stack does not load aws-cdk-lib (about 50 MB and a second of start-up).
 * test/workflows/asl-file.test.ts fails when the file differs from what the chain renders now.
 *
 * Nothing here may import aws-cdk-lib.
 */
export const PLAN_COMMAND_ASL_FILE = new URL('./plan-command.asl.json', import.meta.url);

/** Task `Resource`s point at placeholder functions; the embedded runner binds Task states to step handlers by them. */
export const PLACEHOLDER_FUNCTION_ARN_PREFIX = 'arn:aws:lambda:eu-west-2:000000000000:function:wraparound-';

export function placeholderFunctionArn(name: StepFunctionName): string {
  return `${PLACEHOLDER_FUNCTION_ARN_PREFIX}${name}`;
}

/** The step function a placeholder `Resource` names, or undefined. */
export function stepOfPlaceholderArn(resource: string): StepFunctionName | undefined {
  if (!resource.startsWith(PLACEHOLDER_FUNCTION_ARN_PREFIX)) return undefined;
  const name = resource.slice(PLACEHOLDER_FUNCTION_ARN_PREFIX.length);
  return (STEP_FUNCTIONS as readonly string[]).includes(name) ? (name as StepFunctionName) : undefined;
}

/** The committed PlanCommand ASL (a fresh copy each call). */
export function planCommandAsl(): Record<string, unknown> {
  return JSON.parse(readFileSync(PLAN_COMMAND_ASL_FILE, 'utf8')) as Record<string, unknown>;
}

/** The file's text for an ASL object: how `npm run render:asl` writes it. */
export function aslFileText(asl: Record<string, unknown>): string {
  return `${JSON.stringify(asl, null, 2)}\n`;
}
