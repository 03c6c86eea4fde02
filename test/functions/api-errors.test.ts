import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { authorise, principalOf } from '../../lib/api/auth.ts';
import { failureToProblem, HttpProblem, problemResponse } from '../../lib/api/http.ts';
import { ROUTES, type Route } from '../../lib/api/routes.ts';
import { DomainError, invalid, notAllowedInStage, notFound } from '../../lib/domain/errors.ts';

describe('failureToProblem', () => {
  const refusal = new DomainError('InvalidCommand', 'The referral is not valid: referral.source: Invalid option', [
    { path: 'referral.source', message: 'Invalid option' },
    { path: 'participant.dateOfBirth', message: 'Invalid ISO date' },
  ]);

  it('reads the detail and field errors of a domain error cause', () => {
    const p = failureToProblem('InvalidCommand', refusal.toCause());
    expect(p).toBeInstanceOf(HttpProblem);
    expect(p.status).toBe(400);
    expect(p.message).toBe(refusal.message);
    expect(p.errors).toEqual(refusal.errors);
  });

  it('reads the same cause wrapped once more by Lambda', () => {
    const wrapped = JSON.stringify({ errorType: 'InvalidCommand', errorMessage: refusal.toCause(), trace: ['Error: ...', '    at decide (...)'] });
    expect(wrapped).toContain('"errorMessage":"{\\"detail\\":');
    const p = failureToProblem('InvalidCommand', wrapped);
    expect(p.status).toBe(400);
    expect(p.message).toBe(refusal.message);
    expect(p.errors).toEqual(refusal.errors);
  });

  it('gives every domain error its own status', () => {
    expect(failureToProblem('InvalidCommand', invalid('x', 'is wrong').toCause()).status).toBe(400);
    expect(failureToProblem('Forbidden', new DomainError('Forbidden', 'no').toCause()).status).toBe(403);
    expect(failureToProblem('NotFound', notFound('No plan pl_x.').toCause()).status).toBe(404);
    expect(failureToProblem('NotAllowedInStage', notAllowedInStage('no').toCause()).status).toBe(409);
    expect(failureToProblem('VersionConflict', new DomainError('VersionConflict', 'again').toCause()).status).toBe(409);
    expect(failureToProblem('IdempotencyKeyReused', new DomainError('IdempotencyKeyReused', 'reused').toCause()).status).toBe(422);
  });

  it.each(['States.Timeout', 'States.TaskFailed', 'TransientStorageError', 'Error', 'TypeError'])('makes %s a 500 that names no internals', (error) => {
    const p = failureToProblem(error, JSON.stringify({ errorType: error, errorMessage: 'secret table name wraparound-prod', trace: [] }));
    expect(p.status).toBe(500);
    expect(p.message).not.toContain('secret');
    expect(p.errors).toEqual([]);
  });

  it('takes a plain-text message wrapped by Lambda as the detail, never the wrapper or its stack', () => {
    const message = 'record-review is not allowed while the plan is referred.';
    const wrapped = JSON.stringify({ errorType: 'NotAllowedInStage', errorMessage: message, trace: ['NotAllowedInStage: ...', '    at guard (/var/task/index.mjs:1:2)'] });
    const p = failureToProblem('NotAllowedInStage', wrapped);
    expect(p.status).toBe(409);
    expect(p.message).toBe(message);
    expect(p.errors).toEqual([]);
  });

  it("takes a plain-text cause (the Guard's own refusal) as the detail", () => {
    const cause = 'record-review is not allowed while the plan is referred.';
    const p = failureToProblem('NotAllowedInStage', cause);
    expect(p.status).toBe(409);
    expect(p.message).toBe(cause);
    expect(p.errors).toEqual([]);
  });

  it('renders as application/problem+json with the field errors', () => {
    const response = problemResponse(failureToProblem('InvalidCommand', refusal.toCause()), '/plans');
    expect(response.statusCode).toBe(400);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body as string)).toEqual({
      type: 'about:blank',
      title: 'Bad request',
      status: 400,
      detail: refusal.message,
      instance: '/plans',
      errors: refusal.errors,
    });
  });
});

describe('principalOf', () => {
  const eventWith = (claims: Record<string, unknown> | undefined) =>
    ({
      version: '2.0',
      routeKey: 'GET /plans',
      rawPath: '/plans',
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: '/plans' }, ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}) },
    }) as unknown as APIGatewayProxyEventV2;

  it('reads cognito:groups as API Gateway passes it, "[coordinators]"', () => {
    expect(principalOf(eventWith({ sub: 'u-1', 'cognito:groups': '[coordinators]' }))).toEqual({ sub: 'u-1', role: 'coordinator', roles: ['coordinator'] });
  });

  it('reads space-separated groups, the first known group giving the role', () => {
    expect(principalOf(eventWith({ sub: 'u-1', 'cognito:groups': 'coordinators team-leads' }))).toEqual({ sub: 'u-1', role: 'coordinator', roles: ['coordinator', 'team-lead'] });
    expect(principalOf(eventWith({ sub: 'u-1', 'cognito:groups': '[team-leads coordinators]' }))).toMatchObject({ role: 'team-lead', roles: ['team-lead', 'coordinator'] });
  });

  it('reads comma-separated groups', () => {
    expect(principalOf(eventWith({ sub: 'u-1', 'cognito:groups': 'commissioners,team-leads' }))).toMatchObject({ role: 'commissioner', roles: ['commissioner', 'team-lead'] });
  });

  it('reads groups given as an array', () => {
    expect(principalOf(eventWith({ sub: 'u-1', 'cognito:groups': ['team-leads'] }))).toEqual({ sub: 'u-1', role: 'team-lead', roles: ['team-lead'] });
  });

  it('skips groups that are no Wraparound role', () => {
    expect(principalOf(eventWith({ sub: 'u-1', 'cognito:groups': '[admins coordinators]' }))).toEqual({ sub: 'u-1', role: 'coordinator', roles: ['coordinator'] });
    expect(principalOf(eventWith({ sub: 'u-1', 'cognito:groups': '[admins]' }))).toBeUndefined();
    expect(principalOf(eventWith({ sub: 'u-1' }))).toBeUndefined();
  });

  it('carries a provider’s custom:providerId, and the name when given', () => {
    expect(principalOf(eventWith({ sub: 'p-1', name: 'Ann', 'cognito:groups': '[providers]', 'custom:providerId': 'anawim' }))).toEqual({
      sub: 'p-1',
      name: 'Ann',
      role: 'provider',
      roles: ['provider'],
      providerId: 'anawim',
    });
  });

  it('is undefined without a sub or without an authorizer', () => {
    expect(principalOf(eventWith({ 'cognito:groups': '[coordinators]' }))).toBeUndefined();
    expect(principalOf(eventWith({ sub: 42, 'cognito:groups': '[coordinators]' }))).toBeUndefined();
    expect(principalOf(eventWith(undefined))).toBeUndefined();
  });
});

describe('authorise', () => {
  const route = (method: Route['method'], path: string) => ROUTES.find((r) => r.method === method && r.path === path) as Route;
  const eventWith = (claims: Record<string, unknown> | undefined) =>
    ({
      version: '2.0',
      headers: {},
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/plans' }, ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}) },
    }) as unknown as APIGatewayProxyEventV2;
  const refusal = (fn: () => unknown): HttpProblem => {
    try {
      fn();
    } catch (error) {
      return error as HttpProblem;
    }
    throw new Error('expected a refusal');
  };

  it('acts in the first of the caller’s roles that the route allows', () => {
    const both = eventWith({ sub: 'u-1', 'cognito:groups': '[team-leads coordinators]' });
    expect(authorise(both, route('POST', '/plans'))).toEqual({ sub: 'u-1', role: 'coordinator', roles: ['team-lead', 'coordinator'] });
    // Where both are allowed, the first group wins.
    expect(authorise(both, route('GET', '/plans/{planId}'))?.role).toBe('team-lead');
    expect(authorise(both, route('GET', '/escalations'))?.role).toBe('team-lead');
  });

  it('refuses with 403 naming every role the caller has, and 401 without a principal', () => {
    const p = refusal(() => authorise(eventWith({ sub: 'u-1', 'cognito:groups': '[team-leads commissioners]' }), route('POST', '/plans')));
    expect(p.status).toBe(403);
    expect(p.message).toBe('A team-lead or commissioner may not POST /plans; it is for coordinator.');
    const none = refusal(() => authorise(eventWith(undefined), route('POST', '/plans')));
    expect(none.status).toBe(401);
    expect(none.headers).toEqual({ 'www-authenticate': 'Bearer' });
  });

  it('needs a provider id only when the caller acts as a provider', () => {
    const coordinatorAndProvider = eventWith({ sub: 'u-1', 'cognito:groups': '[coordinators providers]' });
    expect(authorise(coordinatorAndProvider, route('POST', '/allocations/{allocationId}/{command}'))?.role).toBe('coordinator');
    const p = refusal(() => authorise(coordinatorAndProvider, route('GET', '/providers/{providerId}/offers')));
    expect(p.status).toBe(403);
    expect(p.message).toContain('custom:providerId');
    expect(authorise(eventWith({ sub: 'u-1', 'cognito:groups': '[coordinators providers]', 'custom:providerId': 'bcwa' }), route('GET', '/providers/{providerId}/offers'))).toMatchObject({ role: 'provider', providerId: 'bcwa' });
  });
});
