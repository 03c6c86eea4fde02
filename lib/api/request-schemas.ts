import { z } from 'zod';
import { Stage } from '../domain/lifecycle.ts';

/** Request parts that are not command payloads, shared by the handlers and the OpenAPI document. */
export const IdempotencyKey = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'must be 1-200 visible ASCII characters');

export const ExpectedVersion = z.number().int().min(1).describe('Optimistic concurrency: refuse with 409 unless the plan is still at this version');

export const PlanListQuery = z.strictObject({
  stage: Stage.exclude(['none']).optional().describe('Only plans in this stage'),
  due: z.enum(['overdue', 'today', 'this-week']).optional().describe('overdue: plans with an open escalation; today / this-week: also plans with a deadline before the end of today / of Sunday (London)'),
  limit: z.coerce.number().int().min(1).max(100).default(25).describe('Page size'),
  cursor: z.string().max(2000).optional().describe('nextCursor of the previous page; needs stage'),
});
