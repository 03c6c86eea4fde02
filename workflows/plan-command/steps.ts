/** The Lambda functions behind the PlanCommand Task states; each is functions/<name>/handler.ts. */
export const STEP_FUNCTIONS = ['load-plan', 'decide', 'allocate-providers', 'save-plan', 'publish-events'] as const;
export type StepFunctionName = (typeof STEP_FUNCTIONS)[number];
