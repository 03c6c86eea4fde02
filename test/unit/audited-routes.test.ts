/**
 * Which routes audit each access and take X-Purpose is declared once, on the route in routes.ts
 * (`auditsAccess`). The OpenAPI document lists X-Purpose from it, and the route kit holds the
 * handlers to it: a handler that audits on an undeclared route, or answers a declared one without
 * its audit record, is a 500 and gives nothing out.
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../lib/adapters/dynamodb/audit-record.ts';
import { answersNothingToAudit, auditAccess } from '../../lib/api/audit-access.ts';
import { apiHandler, type RouteHandler } from '../../lib/api/handler-kit.ts';
import { json, problem } from '../../lib/api/http.ts';
import { openApiDocument } from '../../lib/api/openapi.ts';
import { matchRoute, routeKey, ROUTES } from '../../lib/api/routes.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';

const NOW = '2026-03-05T09:00:00.000Z';

/** A team lead's GET of `path` (both /audit, declared, and /escalations, not declared, are hers). */
function teamLeadGet(path: string, routeKey: string) {
  return lambdaEvent({ routeKey, rawPath: path, claims: CLAIMS.teamLead() });
}

function kit(handlers: Record<string, RouteHandler>) {
  const recorded: AuditEntry[] = [];
  const logged: string[] = [];
  const audit = { record: async (entry: AuditEntry) => void recorded.push(entry) };
  const handler = apiHandler(handlers, { error: (message, details) => void logged.push(`${message} ${JSON.stringify(details)}`) });
  const get = (path: string, routeKey: string) => handler(teamLeadGet(path, routeKey), {} as Context);
  return { audit, recorded, logged, get };
}

describe('the route kit holds handlers to the routes declared auditsAccess', () => {
  it('answers a declared route whose handler recorded the access', async () => {
    const k = kit({ 'GET /audit': async (ctx) => (await auditAccess(k.audit, ctx, 'read-audit', {}, NOW, 'oversight'), json(200, { items: [] })) });
    const result = await k.get('/audit', 'GET /audit');
    expect(result.statusCode).toBe(200);
    expect(k.recorded).toEqual([{ who: 'lead-1', role: 'team-lead', action: 'read-audit', why: 'oversight', at: NOW }]);
  });

  it('gives a 500, not the answer, when a declared route answers without an audit record', async () => {
    const k = kit({ 'GET /audit': async () => json(200, { items: ['what only an audited read may see'] }) });
    const result = await k.get('/audit', 'GET /audit');
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('what only an audited read may see');
    expect(k.logged.join('\n')).toContain('GET /audit is declared auditsAccess but answered 200 without an audit record');
  });

  it('lets a declared route answer without a record an answer it says gives nothing (an empty poll)', async () => {
    const k = kit({ 'GET /audit': async (ctx) => (answersNothingToAudit(ctx), json(200, { items: [] })) });
    expect((await k.get('/audit', 'GET /audit')).statusCode).toBe(200);
    expect(k.recorded).toEqual([]);
  });

  it('lets a declared route refuse before anything is read, without a record', async () => {
    const k = kit({ 'GET /audit': async () => { throw problem(400, 'The query is not valid.'); } });
    expect((await k.get('/audit', 'GET /audit')).statusCode).toBe(400);
    expect(k.recorded).toEqual([]);
  });

  it('gives a 500 and records nothing when a handler audits on a route not declared auditsAccess', async () => {
    const k = kit({ 'GET /escalations': async (ctx) => (await auditAccess(k.audit, ctx, 'read-audit', {}, NOW, 'oversight'), json(200, { items: [] })) });
    const result = await k.get('/escalations', 'GET /escalations');
    expect(result.statusCode).toBe(500);
    expect(k.recorded).toEqual([]);
    expect(k.logged.join('\n')).toContain('auditAccess on GET /escalations, which routes.ts does not declare auditsAccess');
  });
});

describe('the OpenAPI document', () => {
  it('lists X-Purpose on exactly the operations of the routes declared auditsAccess', () => {
    const doc = openApiDocument();
    const withPurpose: string[] = [];
    for (const [path, item] of Object.entries(doc.paths ?? {}))
      for (const [method, operation] of Object.entries(item as Record<string, { parameters?: { name?: string; in?: string }[] }>))
        if (operation.parameters?.some((p) => p.in === 'header' && p.name === 'X-Purpose')) withPurpose.push(`${method.toUpperCase()} ${path}`);
    // A generic {command} route is one operation per command: the route table's own matching finds its route.
    const routeOf = (key: string) => {
      const [method, path] = key.split(' ') as [string, string];
      const matched = matchRoute(method, path);
      return matched && 'route' in matched ? routeKey(matched.route) : key;
    };
    const declared = ROUTES.filter((r) => r.auditsAccess).map(routeKey);
    expect(declared).toContain('GET /allocations/{allocationId}/participant');
    expect([...new Set(withPurpose.map(routeOf))].sort()).toEqual([...declared].sort());
  });
});
