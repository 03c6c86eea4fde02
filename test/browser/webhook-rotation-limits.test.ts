/**
 * The rotation form's overlap (its default and its bounds in the hint) is the API's: the web page
 * and RotateSecretRequest take it from one module, and the API names a bad one with the rule's words.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RotateSecretRequest } from '../../lib/adapters/dynamodb/webhook-store.ts';
import { ROTATION_OVERLAP_HOURS, ROTATION_OVERLAP_RULE } from '../../lib/api/webhook-rotation-limits.ts';
import { REPO, sharedModulesOfWebApp, valueImportsOf } from './web-imports.ts';

const LIMITS = 'lib/api/webhook-rotation-limits.ts';
const PAGE = 'web/src/pages/webhook.tsx';

describe("the rotation form's overlap", () => {
  it('is what the API takes: its default when none is asked for, whole hours from min to max, the rule named otherwise', () => {
    const { default: byDefault, min, max } = ROTATION_OVERLAP_HOURS;
    expect(RotateSecretRequest.parse({})).toEqual({ overlapHours: byDefault });
    for (const hours of [min, byDefault, max]) expect(RotateSecretRequest.parse({ overlapHours: hours })).toEqual({ overlapHours: hours });
    for (const hours of [min - 1, max + 1, min + 0.5, String(byDefault), null]) {
      const parsed = RotateSecretRequest.safeParse({ overlapHours: hours });
      expect(parsed.success, JSON.stringify(hours)).toBe(false);
      expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['overlapHours', ROTATION_OVERLAP_RULE]]);
    }
    expect(ROTATION_OVERLAP_RULE).toBe(`must be whole hours from ${min} to ${max}`);
  });

  it('comes to the web page from the module the API schema reads, which imports nothing, and the page keeps no copy', () => {
    const page = readFileSync(join(REPO, PAGE), 'utf8');
    expect(valueImportsOf(page)).toContain('../../../lib/api/webhook-rotation-limits.ts');
    expect(sharedModulesOfWebApp()).toContain(LIMITS);
    expect(valueImportsOf(readFileSync(join(REPO, LIMITS), 'utf8'))).toEqual([]);
    // A copy of the numbers would drift from the schema's unseen (test/browser/webhook-rotation.test.ts sees them on the form).
    const { min, max } = ROTATION_OVERLAP_HOURS;
    expect(page).not.toMatch(new RegExp(`\\b(?:min|max|default)\\s*:\\s*(?:${min}|${max}|${ROTATION_OVERLAP_HOURS.default})\\b`));
  });
});
