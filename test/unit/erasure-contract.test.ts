/**
 * The erase route's OpenAPI says what the route does (its 409 while a plan of hers is open, the
 * redaction), and the domain refuses free text on an erased plan for every command that can reach one.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { openApiDocument } from '../../lib/api/openapi.ts';
import { COMMAND_NAMES, LIFECYCLE, OPEN_STAGES, isAllowedIn } from '../../lib/domain/lifecycle.ts';
import { COMMAND_PAYLOADS } from '../../lib/domain/schemas.ts';
import { freeTextPaths, REDACTED, refuseFreeTextAfterErasure } from '../../lib/domain/redaction.ts';
import { DomainError } from '../../lib/domain/errors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const doc: Json = openApiDocument();

describe('POST /plans/{planId}/erase-identity in the OpenAPI document', () => {
  const operation = doc.paths['/plans/{planId}/erase-identity'].post;

  it('documents its own 409: open plans of hers, named with what ends them, nothing changed', () => {
    const conflict = operation.responses['409'];
    expect(conflict.$ref).toBeUndefined();
    expect(conflict.description).toContain('A plan of hers is open');
    expect(conflict.description).toContain('exit it, withdraw the referral, or record her consent withdrawn');
    expect(conflict.description).toContain('Nothing changed');
    expect(Object.keys(conflict.content)).toEqual(['application/problem+json']);
    expect(operation.responses['404'].description).toBe('No such plan.');
  });

  it('says what is erased and what is redacted, and which stages refuse it', () => {
    expect(operation.description).toContain(`\`${REDACTED}\``);
    expect(operation.description).toContain(`while any plan of hers is open (${OPEN_STAGES.join(', ')}`);
    expect(operation.description).toContain('refused with a 400 naming the field');
  });
});

describe('free text on an erased plan', () => {
  const erased = { identityErasedAt: '2026-11-28T10:00:00.000Z' };
  /** Commands that can reach an erased plan: erasure needs none of her plans open, so the stages after. */
  const afterSupport = COMMAND_NAMES.filter((name) => isAllowedIn(name, 'exited') || isAllowedIn(name, 'closed'));

  it('is refused for every text field of every command allowed on an exited or closed plan, naming it', () => {
    expect(afterSupport).toEqual(expect.arrayContaining(['correct-follow-up', 'withdraw-consent']));
    for (const name of afterSupport) {
      if (LIFECYCLE[name].actors.some((a) => a === 'timer')) continue;
      const shape = (COMMAND_PAYLOADS[name] as unknown as z.ZodObject).shape;
      // Every field that takes arbitrary words (not an enum or a number) must be found as free text.
      const textFields = Object.entries(shape).filter(([, field]) => (field as z.ZodType).safeParse('any words at all').success);
      for (const [field] of textFields) {
        expect(freeTextPaths({ [field]: 'any words at all' }), `${name}.${field}`).toEqual([field]);
        let refusal: unknown;
        try {
          refuseFreeTextAfterErasure(erased, { [field]: 'any words at all' });
        } catch (error) {
          refusal = error;
        }
        expect(refusal, `${name}.${field}`).toBeInstanceOf(DomainError);
        expect((refusal as DomainError).status).toBe(400);
        expect((refusal as DomainError).errors).toEqual([{ path: field, message: `her identity was erased on 2026-11-28: notes are not kept on her plans; send it without ${field}` }]);
      }
    }
  });

  it('leaves codes alone, and a plan not erased alone', () => {
    expect(() => refuseFreeTextAfterErasure(erased, { month: 6, reoffended: 'no', reason: 'keyed-in-error' })).not.toThrow();
    expect(() => refuseFreeTextAfterErasure({}, { month: 6, reoffended: 'no', reason: 'keyed-in-error', note: 'words' })).not.toThrow();
  });
});
