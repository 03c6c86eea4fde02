import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/api/openapi.ts';
import { TEST_DELIVERY_LIMIT } from '../../lib/api/rate-limit.ts';
import { ROUTES } from '../../lib/api/routes.ts';
import { ACCESS_PURPOSES } from '../../lib/domain/vocabulary.ts';
import { COMMAND_NAMES, LIFECYCLE, type CommandName } from '../../lib/domain/lifecycle.ts';
import { COMMAND_PAYLOADS, ReferPayload } from '../../lib/domain/schemas.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- the document is walked as plain JSON */
type Json = any;

const doc: Json = openApiDocument();

const isTimer = (name: CommandName) => LIFECYCLE[name].actors.every((a) => a === 'timer');
const HTTP_COMMANDS = COMMAND_NAMES.filter((name) => name !== 'refer' && !isTimer(name));
const commandPath = (name: CommandName) =>
  LIFECYCLE[name].target === 'plan' ? `/plans/{planId}/${LIFECYCLE[name].segment}` : `/allocations/{allocationId}/${LIFECYCLE[name].segment}`;

function resolve(ref: string): Json {
  expect(ref.startsWith('#/')).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node: Json, key) => node?.[key], doc);
}

const deref = (node: Json): Json => (node && typeof node.$ref === 'string' ? deref(resolve(node.$ref)) : node);
const operation = (path: string, method: string): Json => doc.paths?.[path]?.[method.toLowerCase()];
const bodySchema = (op: Json): Json => deref(deref(op.requestBody).content['application/json'].schema);

function walk(node: Json, visit: (node: Json, at: string) => void, at = '#') {
  if (node === null || typeof node !== 'object') return;
  visit(node, at);
  for (const [key, child] of Object.entries(node)) walk(child, visit, `${at}/${key}`);
}

describe('openApiDocument', () => {
  it('is OpenAPI 3.1 and plain JSON', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    // The API caches the first document; a second call must describe the same API.
    expect(openApiDocument()).toEqual(doc);
  });

  it('documents every route, with the generic command routes spelled out per command', () => {
    for (const route of ROUTES) {
      if (!route.path.includes('{command}')) {
        expect(operation(route.path, route.method), `${route.method} ${route.path}`).toBeDefined();
        continue;
      }
      const target = route.path.startsWith('/plans/') ? 'plan' : 'allocation';
      const commands = HTTP_COMMANDS.filter((name) => LIFECYCLE[name].target === target);
      expect(commands.length).toBeGreaterThan(0);
      for (const name of commands) expect(operation(commandPath(name), route.method), name).toBeDefined();
    }
    expect(Object.keys(doc.paths).filter((p) => p.includes('{command}'))).toEqual([]);
  });

  it('gives every client command a path with its body, and no timer command a path', () => {
    for (const name of HTTP_COMMANDS) {
      const op = operation(commandPath(name), 'POST');
      const schema = bodySchema(op);
      expect(schema.type, name).toBe('object');
      for (const key of Object.keys(COMMAND_PAYLOADS[name].shape)) expect(schema.properties, `${name}.${key}`).toHaveProperty(key);
      // The plan's version is not shown to providers: a command only they send takes none (the API refuses it, 400).
      if ((LIFECYCLE[name].actors as readonly string[]).every((a) => a === 'provider')) expect(schema.properties, name).not.toHaveProperty('expectedVersion');
      else {
        expect(schema.properties.expectedVersion, name).toMatchObject({ type: 'integer', minimum: 1 });
        expect(schema.required ?? [], name).not.toContain('expectedVersion');
      }
      if (name === 'end-allocation') expect(schema.properties.expectedVersion.description).toMatch(/Coordinators only: from a provider it is not accepted/);
      // An absent body reads as {}, so the body is required exactly when {} is not a valid command.
      expect(deref(op.requestBody).required, name).toBe(!COMMAND_PAYLOADS[name].safeParse({}).success);
    }
    for (const name of COMMAND_NAMES.filter(isTimer)) {
      expect(Object.keys(doc.paths).some((p) => p.endsWith(`/${LIFECYCLE[name].segment}`)), name).toBe(false);
    }
  });

  it('describes request bodies input-side: fields with defaults are optional', () => {
    const refer = bodySchema(operation('/plans', 'POST'));
    expect(Object.keys(refer.properties).sort()).toEqual(Object.keys(ReferPayload.shape).sort());
    expect(refer.properties.referral.required).not.toContain('urgency');
    expect(bodySchema(operation('/plans/{planId}/record-consent', 'POST')).properties.scope.required).toEqual(['shareWithProviders']);
    expect(bodySchema(operation('/plans/{planId}/submit-assessment', 'POST')).required).toEqual(['needs']);
  });

  it('secures every route with a bearer JWT except the public ones, and names the roles', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    for (const route of ROUTES.filter((r) => !r.path.includes('{command}'))) {
      const op = operation(route.path, route.method);
      if (route.roles === 'public') {
        expect(op.security, route.path).toEqual([]);
        expect(Object.keys(op.responses)).not.toContain('401');
      } else {
        expect(op.security, route.path).toBeUndefined();
        expect(op['x-roles']).toEqual(route.roles);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
    expect(operation('/allocations/{allocationId}/accept', 'POST')['x-roles']).toEqual(['provider']);
    expect(operation('/allocations/{allocationId}/end', 'POST')['x-roles']).toEqual(['provider', 'coordinator']);
  });

  it('takes an Idempotency-Key on every POST and answers errors as problem+json', () => {
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      if (!item.post) continue;
      const params = (item.post.parameters ?? []).map(deref);
      expect(params.find((p: Json) => p.in === 'header' && p.name === 'Idempotency-Key'), path).toBeDefined();
      const statuses = Object.keys(item.post.responses);
      expect(statuses, path).toEqual(expect.arrayContaining(['400', '401', '403', '409', '413', '415', '422']));
      expect(statuses.filter((s) => s.startsWith('2')), path).toEqual([path === '/plans' || path === '/providers/{providerId}/subscriptions' ? '201' : '200']);
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        const problem = deref(deref(item.post.responses[status]).content['application/problem+json'].schema);
        expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail']));
        expect(Object.keys(problem.properties)).toEqual(expect.arrayContaining(['instance', 'errors']));
        expect(deref(problem.properties.errors.items).required).toEqual(['path', 'message']);
      }
    }
  });

  it("documents the test delivery's rate limit: a 429 with the limit in words and Retry-After", () => {
    const answer = doc.paths['/providers/{providerId}/subscriptions/{subscriptionId}/test'].post.responses['429'];
    expect(answer.description).toContain(`At most ${TEST_DELIVERY_LIMIT.max} test deliveries`);
    expect(Object.keys(answer.headers ?? {})).toEqual(['Retry-After']);
  });

  it('documents the worklist query', () => {
    const params = Object.fromEntries(operation('/plans', 'GET').parameters.map(deref).map((p: Json) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual(['cursor', 'due', 'limit', 'stage']);
    for (const p of Object.values<Json>(params)) expect(p.in).toBe('query');
    expect(params.limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(params.due.schema.enum).toEqual(['overdue', 'today', 'this-week']);
    expect(params.stage.schema.enum).not.toContain('none');
  });

  it('shows the X-Purpose codes on every audited route, and on no other', () => {
    const purposeOf = (op: Json) => (op.parameters ?? []).map(deref).find((p: Json) => p.in === 'header' && p.name === 'X-Purpose');
    const participantRead = purposeOf(operation('/allocations/{allocationId}/participant', 'GET'));
    expect(participantRead.required ?? false).toBe(false);
    expect(deref(participantRead.schema).enum).toEqual([...ACCESS_PURPOSES]);
    for (const [path, method] of [['/plans', 'POST'], ['/plans/{planId}', 'GET'], ['/plans/{planId}/participant', 'PATCH'], ['/plans/{planId}/exit', 'POST'], ['/allocations/{allocationId}/accept', 'POST'], ['/audit', 'GET']] as const)
      expect(deref(purposeOf(operation(path, method))?.schema)?.enum, `${method} ${path}`).toEqual([...ACCESS_PURPOSES]);
    // Erasure takes its reason in the body; the directory and metrics hold nothing about her.
    for (const [path, method] of [['/plans/{planId}/erase-identity', 'POST'], ['/directory/services', 'GET'], ['/metrics', 'GET'], ['/health', 'GET']] as const) expect(purposeOf(operation(path, method)), `${method} ${path}`).toBeUndefined();
  });

  it('says an erasure request is held back by an exited plan whose follow-ups are still to come, as the erasure refuses it', () => {
    // erasureHold (lib/domain/erasure-hold.ts) holds it for an exited plan with her follow-ups to come; the document said the opposite.
    const erase = operation('/plans/{planId}/erase-identity', 'POST');
    expect(erase.description).not.toContain('an exited plan is not');
    expect(erase.description).toContain('exited with her 6- and 12-month follow-ups still to come');
    expect(deref(erase.responses['409']).description).toContain('exited and waiting for its follow-ups');
  });

  it('refers only to things the document defines', () => {
    const refs: string[] = [];
    walk(doc, (node) => {
      if (typeof node.$ref === 'string') refs.push(node.$ref);
    });
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) expect(resolve(ref), ref).toBeDefined();
  });
});

/**
 * ajv is not a dependency of this project (it arrives through aws-local-stepfunctions), so it is
 * loaded by a computed name and the check skips when it is absent rather than adding a dependency.
 */
const ajvModule: Json = await import(/* @vite-ignore */ ['ajv', 'dist', '2020.js'].join('/')).catch(() => undefined);
const Ajv2020: Json = ajvModule?.default?.default ?? ajvModule?.default;

describe.skipIf(!Ajv2020)('component schemas, checked with ajv (JSON Schema 2020-12)', () => {
  const id = 'https://wraparound.invalid/openapi.json';
  // Component refs point into the OpenAPI document; as $defs they resolve inside one JSON Schema.
  const defs = JSON.parse(JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'));
  const ajv = Ajv2020 ? new Ajv2020({ strict: true, strictTypes: false, allErrors: true, validateFormats: false }) : undefined;
  ajv?.addSchema({ $id: id, $defs: defs });

  it('every component compiles', () => {
    for (const name of Object.keys(defs)) expect(() => ajv.getSchema(`${id}#/$defs/${name}`), name).not.toThrow();
  });

  const cases: [CommandName, unknown][] = [
    ['record-consent', { scope: { shareWithProviders: true }, givenAt: '2026-03-02', method: 'written' }],
    ['record-consent', { scope: { shareWithProviders: true }, givenAt: '2026-02-30', method: 'written' }],
    ['record-consent', { scope: { shareWithProviders: true }, givenAt: '2026-03-02' }],
    ['record-consent', { scope: { shareWithProviders: true }, givenAt: '2026-03-02', method: 'written', extra: 1 }],
    ['submit-assessment', { needs: [{ domain: 'mental-health', level: 'high', priority: true }] }],
    ['submit-assessment', { needs: [] }],
    ['submit-assessment', { needs: [{ domain: 'astrology', level: 'high', priority: true }] }],
    ['decline-offer', { reason: 'capacity' }],
    ['decline-offer', { reason: 'too-busy' }],
    ['record-follow-up', { month: 6, reoffended: 'no' }],
    ['record-follow-up', { month: 9, reoffended: 'no' }],
    ['accept-offer', {}],
  ];

  it.each(cases)('agrees with zod on a %s body', (name, body) => {
    const component = `${name.replace(/(^|-)([a-z])/g, (_, _d: string, c: string) => c.toUpperCase())}Request`;
    const validate = ajv.getSchema(`${id}#/$defs/${component}`);
    expect(validate, component).toBeDefined();
    expect(validate(body)).toBe(COMMAND_PAYLOADS[name].safeParse(body).success);
    const providersOnly = (LIFECYCLE[name].actors as readonly string[]).every((a) => a === 'provider');
    expect(validate({ ...(body as object), expectedVersion: 3 })).toBe(!providersOnly && COMMAND_PAYLOADS[name].safeParse(body).success);
    expect(validate({ ...(body as object), expectedVersion: 0 })).toBe(false);
  });
});
