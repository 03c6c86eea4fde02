/**
 * problemResponse: a problem's extension members (RFC 9457) are added to the standard ones, never put in
 * their place: the status, type, title and detail a client reads are the problem's own. The type refuses
 * an extension named as a standard member (checked by `npm run typecheck`: the @ts-expect-error lines).
 */
import { describe, expect, it } from 'vitest';
import { HttpProblem, problemResponse, type ProblemExtensions } from '../../lib/api/http.ts';

const refusal = () => {
  const p = new HttpProblem(409, 'Possible duplicate referral', 'A plan may already be open for this woman.', [{ path: 'notDuplicateOf', message: 'must list pl_1' }]);
  p.type = 'possible-duplicate';
  return p;
};
const bodyOf = (p: HttpProblem, instance?: string) => JSON.parse(String(problemResponse(p, instance).body)) as Record<string, unknown>;

describe('problemResponse', () => {
  it('adds extension members after the standard ones', () => {
    const p = refusal();
    p.extensions = { possibleDuplicates: [{ planId: 'pl_1' }] };
    const body = bodyOf(p, '/plans');
    expect(body).toEqual({
      type: 'possible-duplicate',
      title: 'Possible duplicate referral',
      status: 409,
      detail: 'A plan may already be open for this woman.',
      instance: '/plans',
      errors: [{ path: 'notDuplicateOf', message: 'must list pl_1' }],
      possibleDuplicates: [{ planId: 'pl_1' }],
    });
    expect(Object.keys(body)).toEqual(['type', 'title', 'status', 'detail', 'instance', 'errors', 'possibleDuplicates']);
  });

  it('keeps the standard members when an extension is named as one of them', () => {
    const p = refusal();
    p.extensions = { status: 200, type: 'about:blank', title: 'OK', detail: 'Nothing wrong', instance: '/elsewhere', errors: [], note: 'kept' } as unknown as ProblemExtensions;
    const response = problemResponse(p);
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(String(response.body))).toEqual({
      type: 'possible-duplicate',
      title: 'Possible duplicate referral',
      status: 409,
      detail: 'A plan may already be open for this woman.',
      errors: [{ path: 'notDuplicateOf', message: 'must list pl_1' }],
      note: 'kept',
    });
  });

  it('refuses an extension named as a standard member at the type level', () => {
    const p = refusal();
    // @ts-expect-error status is a standard member, not an extension's
    p.extensions = { status: 200 };
    // @ts-expect-error detail is a standard member, not an extension's
    p.extensions = { detail: 'overwritten' };
    // @ts-expect-error title is a standard member, not an extension's
    p.extensions = { title: 'overwritten' };
    // @ts-expect-error type is a standard member, not an extension's
    p.extensions = { type: 'overwritten' };
    p.extensions = { possibleDuplicates: [] };
    expect(bodyOf(p).status).toBe(409);
  });
});
