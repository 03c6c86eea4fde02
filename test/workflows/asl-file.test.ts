/**
 * The embedded stack runs the PlanCommand ASL from a committed file (so starting it does not load
 * aws-cdk-lib). The file must be what the CDK chain renders now; asl.test.ts checks that rendering
 * against the synthesized template.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aslFileText, PLAN_COMMAND_ASL_FILE, planCommandAsl } from '../../workflows/plan-command/asl.ts';
import { renderPlanCommandAsl } from '../../workflows/plan-command/render.ts';

const STALE = 'workflows/plan-command/plan-command.asl.json is not what the PlanCommand chain renders now: run `npm run render:asl` and commit the file';

describe('the committed PlanCommand ASL file', () => {
  it('is exactly what workflows/plan-command/render.ts renders from the CDK chain now', () => {
    const rendered = renderPlanCommandAsl();
    expect(planCommandAsl(), STALE).toEqual(rendered);
    // Byte for byte too, so a hand edit that changes nothing but the layout is caught as well.
    expect(readFileSync(PLAN_COMMAND_ASL_FILE, 'utf8') === aslFileText(rendered), STALE).toBe(true);
    // Not vacuous: the file holds the whole machine.
    expect(Object.keys(planCommandAsl().States as object).length).toBeGreaterThan(10);
  });
});
