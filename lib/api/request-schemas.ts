import * as z from 'zod';
import { Stage } from '../domain/lifecycle.ts';
import { PlanId } from '../domain/schemas.ts';
import { ACCESS_PURPOSES, ERASURE_REASONS, MAX_AUDIT_DAYS, MAX_AUDIT_DAYS_ONE_PLAN } from '../domain/vocabulary.ts';
import { DUE_LISTS } from '../domain/worklist.ts';
import { BadAuditCursor, decodeAuditCursor } from '../adapters/dynamodb/audit-log.ts';
import { BadWorklistCursor, decodeWorklistCursor, type CursorList } from '../adapters/dynamodb/worklist-cursor.ts';

/** Request parts that are not command payloads, shared by the handlers and the OpenAPI document. */
export const IdempotencyKey = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'must be 1-200 visible ASCII characters');

export const ExpectedVersion = z.number().int().min(1).describe('Optimistic concurrency: refuse with 409 unless the plan is still at this version');

/** A due list's cursor must be one the list gave out: checked here, so a bad one is a 400 naming it. */
function checkWorklistCursor(cursor: string | undefined, list: CursorList, ctx: z.core.$RefinementCtx, stage?: string) {
  if (cursor === undefined) return;
  try {
    decodeWorklistCursor(cursor, list, stage);
  } catch (error) {
    if (!(error instanceof BadWorklistCursor)) throw error;
    ctx.addIssue({ code: 'custom', path: ['cursor'], message: error.message });
  }
}

export const PlanListQuery = z.strictObject({
  stage: Stage.exclude(['none']).optional().describe('Only plans in this stage'),
  due: z
    .enum(['overdue', 'today', 'this-week'])
    .optional()
    .describe(
      `${Object.entries(DUE_LISTS)
        .map(([list, { label, means }]) => `${list} (${label}): ${means}`)
        .join('; ')}. Pages go the longest-open escalation first, then the soonest due; each page is in urgency order (more escalations, urgent, higher risk, nearest deadline)`,
    ),
  limit: z.coerce.number().int().min(1).max(100).default(25).describe('Page size'),
  cursor: z.string().max(2000).optional().describe('nextCursor of the previous page, with the same due and the same stage (or none)'),
}).superRefine((q, ctx) => {
  if (q.due) checkWorklistCursor(q.cursor, q.due, ctx, q.stage);
});

export const EscalationQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(100).describe('Page size; pages go the longest-open escalation first, each in urgency order'),
  cursor: z.string().max(2000).optional().describe('nextCursor of the previous page'),
}).superRefine((q, ctx) => checkWorklistCursor(q.cursor, 'escalations', ctx));

/** A UTC day: the audit records are kept by the day of their `at`, a UTC instant. */
const auditDay = (which: string) =>
  z.iso.date({ error: (issue) => (issue.input === undefined ? 'is required (YYYY-MM-DD, a UTC day)' : 'must be a date, YYYY-MM-DD (a UTC day)') }).describe(which);

/**
 * The range and the cursor are checked only once from and to are both days: with one that is not,
 * its own error says what is wrong, and comparing it would add errors that are not (a from of "x"
 * would also be "after to" and "more than 31 days" before it, and the cursor "outside x to …").
 */
const bothDays = (payload: z.core.ParsePayload) => !payload.issues.some((issue) => issue.path?.[0] === 'from' || issue.path?.[0] === 'to');

export const AuditQuery = z.strictObject({
  from: auditDay('First UTC day, YYYY-MM-DD (records are kept by the UTC day of their `at`)'),
  to: auditDay(`Last UTC day, YYYY-MM-DD, inclusive (at most ${MAX_AUDIT_DAYS} days after from; with planId, at most ${MAX_AUDIT_DAYS_ONE_PLAN})`),
  planId: PlanId.optional().describe('Only records about this plan'),
  limit: z.coerce.number().int().min(1).max(1000).default(500).describe('Page size'),
  cursor: z.string().max(2000).optional().describe('nextCursor of the previous page, with the same from, to and planId'),
}).refine((q) => q.from <= q.to, { path: ['from'], message: 'must not be after to', when: bothDays })
  // About one plan its own records are read (byAuditPlan), so its whole life fits in one range.
  .superRefine((q, ctx) => {
    const most = q.planId === undefined ? MAX_AUDIT_DAYS : MAX_AUDIT_DAYS_ONE_PLAN;
    if (Date.parse(q.to) - Date.parse(q.from) > most * 86_400_000)
      ctx.addIssue({ code: 'custom', path: ['to'], message: q.planId === undefined ? `at most ${MAX_AUDIT_DAYS} days after from (about one plan, with planId: ${MAX_AUDIT_DAYS_ONE_PLAN})` : `at most ${MAX_AUDIT_DAYS_ONE_PLAN} days after from about one plan` });
  }, { when: bothDays })
  .superRefine((q, ctx) => {
    if (q.cursor === undefined) return;
    try {
      decodeAuditCursor(q.cursor, q.from, q.to);
    } catch (error) {
      if (!(error instanceof BadAuditCursor)) throw error;
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: error.message });
    }
  }, { when: bothDays });

/** Why the caller is reading or changing personal data, as a code; recorded in the audit log. */
export const AccessPurpose = z.enum(ACCESS_PURPOSES, { error: () => `must be one of ${ACCESS_PURPOSES.join(', ')}` });
export type AccessPurpose = z.infer<typeof AccessPurpose>;

export const ErasePayload = z.strictObject({
  reason: z.enum(ERASURE_REASONS, { error: () => `must be one of ${ERASURE_REASONS.join(', ')}` }).describe('Why her identity is erased now (a code: the audit log keeps it after the erasure)'),
});
