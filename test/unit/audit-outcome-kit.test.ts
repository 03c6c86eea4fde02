/**
 * The route kit files how an audited change ended against its record, and a failure to file it never
 * costs the answer: the change has happened (or been refused) whatever that write does, so the answer
 * still goes out, the failure is logged, and the record reads "outcome not recorded".
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditOutcome, AuditRecordRef } from '../../lib/adapters/dynamodb/audit-record.ts';
import { auditAccess } from '../../lib/api/audit-access.ts';
import { apiHandler, type RouteHandler } from '../../lib/api/handler-kit.ts';
import { json, problem } from '../../lib/api/http.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';

const NOW = '2026-03-05T09:00:00.000Z';
const ROUTE = 'PATCH /directory/services/{serviceId}';

function kit(handler: (audit: ReturnType<typeof fakeAudit>) => RouteHandler, options: { outcomeFails?: boolean } = {}) {
  const audit = fakeAudit(options.outcomeFails ?? false);
  const logged: string[] = [];
  const handle = apiHandler({ [ROUTE]: handler(audit) }, { error: (message) => void logged.push(message) });
  const patch = () => handle(lambdaEvent({ routeKey: ROUTE, rawPath: '/directory/services/bcwa-da', pathParameters: { serviceId: 'bcwa-da' }, claims: CLAIMS.teamLead(), body: '{}' }), {} as Context);
  return { audit, logged, patch };
}

function fakeAudit(outcomeFails: boolean) {
  const recorded: AuditEntry[] = [];
  const outcomes: [AuditRecordRef, AuditOutcome][] = [];
  return {
    recorded,
    outcomes,
    record: async (entry: AuditEntry): Promise<AuditRecordRef> => (recorded.push(entry), { auditId: `a${recorded.length}`, at: entry.at }),
    recordOutcome: async (ref: AuditRecordRef, outcome: AuditOutcome) => {
      if (outcomeFails) throw Object.assign(new Error('the table is unavailable'), { name: 'TransientStorageError' });
      outcomes.push([ref, outcome]);
    },
  };
}

describe('outcomes of audited changes', () => {
  it('files succeeded, refused with the status and title, or failed, against the record of the attempt', async () => {
    const done = kit((audit) => async (ctx) => (await auditAccess(audit, ctx, 'change-service', {}, NOW, 'oversight'), json(200, {})));
    expect((await done.patch()).statusCode).toBe(200);
    expect(done.audit.outcomes).toEqual([[{ auditId: 'a1', at: NOW }, { result: 'succeeded', status: 200 }]]);

    const refused = kit((audit) => async (ctx) => {
      await auditAccess(audit, ctx, 'change-service', {}, NOW, 'oversight');
      throw problem(409, 'Changed by someone else meanwhile.');
    });
    expect((await refused.patch()).statusCode).toBe(409);
    expect(refused.audit.outcomes.map(([, o]) => o)).toEqual([{ result: 'refused', status: 409, problem: 'Conflict' }]);

    const failed = kit((audit) => async (ctx) => {
      await auditAccess(audit, ctx, 'change-service', {}, NOW, 'oversight');
      throw new Error('a bug');
    });
    expect((await failed.patch()).statusCode).toBe(500);
    expect(failed.audit.outcomes.map(([, o]) => o)).toEqual([{ result: 'failed', status: 500, problem: 'Internal error' }]);
  });

  it('files nothing for a request refused before its record', async () => {
    const early = kit(() => async () => {
      throw problem(400, 'The service change is not valid.');
    });
    expect((await early.patch()).statusCode).toBe(400);
    expect(early.audit.recorded).toEqual([]);
    expect(early.audit.outcomes).toEqual([]);
  });

  it('still answers when the outcome cannot be written, and logs that it was not', async () => {
    const k = kit((audit) => async (ctx) => (await auditAccess(audit, ctx, 'change-service', {}, NOW, 'oversight'), json(200, { changed: true })), { outcomeFails: true });
    const res = await k.patch();
    expect([res.statusCode, res.body]).toEqual([200, JSON.stringify({ changed: true })]);
    expect(k.audit.recorded).toHaveLength(1);
    expect(k.logged).toEqual(['audit outcome not recorded']);
  });
});
