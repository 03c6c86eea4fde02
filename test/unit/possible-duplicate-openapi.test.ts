/**
 * The OpenAPI document describes a possible-duplicate referral from the zod schemas: the 409 of POST /plans
 * may be the possible-duplicate problem (its type, the plans to check, notDuplicateOf named), the request
 * takes notDuplicateOf, and an audit record may carry the plans the coordinator confirmed.
 */
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/api/openapi.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- the document is walked as plain JSON */
type Json = any;
const doc: Json = openApiDocument();
const deref = (node: Json): Json => (node && typeof node.$ref === 'string' ? deref(node.$ref.slice(2).split('/').reduce((n: Json, k: string) => n?.[k], doc)) : node);

describe('OpenAPI: a possible duplicate referral', () => {
  const refer = doc.paths['/plans'].post;

  it('the 409 of POST /plans may be a possible-duplicate problem, with the plans to check', () => {
    const conflict = deref(refer.responses['409']);
    expect(conflict.description).toContain('possible-duplicate');
    const body = deref(conflict.content['application/problem+json'].schema);
    expect(body.properties.type.description).toContain('possible-duplicate');
    expect(body.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail']));
    const plan = deref(deref(body.properties.possibleDuplicates).items);
    expect(Object.keys(plan.properties).sort()).toEqual(['planId', 'referredOn', 'stage']);
  });

  it('the referral takes notDuplicateOf, a list of plan ids', () => {
    const body = deref(refer.requestBody.content['application/json'].schema);
    const field = deref(body.properties.notDuplicateOf);
    expect(field.type).toBe('array');
    expect(deref(field.items).pattern).toBe('^pl_[a-z0-9]{10,40}$');
    expect(field.description).toContain('possible-duplicate');
    expect(body.required).not.toContain('notDuplicateOf');
  });

  it('names no more plans than notDuplicateOf can list, so every plan named can be confirmed', () => {
    const named = deref(deref(deref(refer.responses['409']).content['application/problem+json'].schema).properties.possibleDuplicates);
    const confirmable = deref(deref(refer.requestBody.content['application/json'].schema).properties.notDuplicateOf);
    expect(named.maxItems).toBeGreaterThan(0);
    expect(named.maxItems).toBe(confirmable.maxItems);
  });

  it('an audit record may name the plans the coordinator confirmed she is not the woman of', () => {
    const list = deref(doc.paths['/audit'].get.responses['200'].content['application/json'].schema);
    expect(deref(deref(list.properties.items).items).properties.notDuplicateOf.type).toBe('array');
  });
});
