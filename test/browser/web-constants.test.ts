/**
 * The web app carries the API's vocabulary without zod (web/src/domain.ts): every list must be the
 * API's own, in the same order, so a form never offers a value the API refuses or misses one.
 */
import { describe, expect, it } from 'vitest';
import * as web from '../../web/src/domain.ts';
import { LOCAL_AUTHORITIES, NEED_DOMAINS, REFERRAL_SOURCES } from '../../lib/domain/taxonomy.ts';
import { ADJUSTMENTS, CONTACT_KINDS, DATA_CATEGORIES, DECLINE_REASONS, END_OUTCOMES, EXIT_REASONS, RecordConsentPayload, RecordFollowUpPayload, Review, Risks, WITHDRAW_REASONS, NeedLevel } from '../../lib/domain/schemas.ts';
import { STAGES } from '../../lib/domain/lifecycle.ts';
import { CONTACT_METHODS, ContactDetails } from '../../lib/domain/schemas.ts';
import { CONTACT_METHODS as CONTACT_METHOD_WORDS, SAFETY_QUESTIONS } from '../../web/src/pages/identity-words.ts';
import { DIMENSIONS } from '../../lib/domain/metrics/definitions.ts';
import { GROUP_OF_ROLE } from '../../lib/api/auth.ts';
import { ROLES } from '../../lib/api/routes.ts';

describe('the web app speaks the API', () => {
  it("asks for her contact details in the API's own words", () => {
    expect(CONTACT_METHOD_WORDS.map(([v]) => v)).toEqual(CONTACT_METHODS);
    // Every safety question is a yes/no the API keeps, and every yes/no the API keeps is asked.
    const flags = Object.entries(ContactDetails.shape).filter(([, schema]) => schema.unwrap().type === 'boolean').map(([key]) => key);
    expect(SAFETY_QUESTIONS.map(([key]) => key).sort()).toEqual(flags.sort());
  });

  it('has the same lists as the domain', () => {
    expect(web.NEED_DOMAINS).toEqual(NEED_DOMAINS);
    expect(web.LOCAL_AUTHORITIES).toEqual(LOCAL_AUTHORITIES);
    expect(web.REFERRAL_SOURCES).toEqual(REFERRAL_SOURCES);
    expect(web.DATA_CATEGORIES).toEqual(DATA_CATEGORIES);
    expect(web.WITHDRAW_REASONS).toEqual(WITHDRAW_REASONS);
    expect(web.ADJUSTMENTS).toEqual(ADJUSTMENTS);
    expect(web.DECLINE_REASONS).toEqual(DECLINE_REASONS);
    expect(web.CONTACT_KINDS).toEqual(CONTACT_KINDS);
    expect(web.END_OUTCOMES).toEqual(END_OUTCOMES);
    expect(web.EXIT_REASONS).toEqual(EXIT_REASONS);
    expect(web.NEED_LEVELS).toEqual(NeedLevel.options);
    expect(web.CONSENT_METHODS).toEqual(RecordConsentPayload.shape.method.options);
    expect(web.DOMESTIC_ABUSE_RISK).toEqual(Risks.shape.domesticAbuse.unwrap().options);
    expect(web.REVIEW_OUTCOMES).toEqual(Review.shape.outcome.options);
    expect(web.REOFFENDED.every((r) => RecordFollowUpPayload.safeParse({ month: 6, reoffended: r }).success)).toBe(true);
    expect(web.METRIC_DIMENSIONS).toEqual(DIMENSIONS);
    expect(web.ROLES).toEqual(ROLES);
    expect(web.GROUP_OF_ROLE).toEqual(GROUP_OF_ROLE);
    expect(STAGES.filter((s) => s !== 'none')).toEqual(web.STAGES);
  });

  it('has words for every value', () => {
    for (const value of [...web.NEED_DOMAINS, ...web.LOCAL_AUTHORITIES, ...web.REFERRAL_SOURCES, ...web.EXIT_REASONS, ...web.DECLINE_REASONS]) {
      expect(web.label(value)).toMatch(/^[A-Z]/);
      expect(web.label(value)).not.toBe(value);
    }
  });
});
