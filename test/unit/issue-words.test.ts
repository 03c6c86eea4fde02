/**
 * Every kind of bad input reads in plain words, from one place (lib/domain/issue-words.ts): what the
 * auditors were shown ("Too big: expected number to be <=10", "month: Invalid input", "Invalid ISO
 * date" for 30 February…) is fed through the API's own parsing, a request body (parseWith) and a
 * command's payload (parsePayload), and the field's path is kept. The web shows the same words
 * (friendly() passes them through), except the codes of a list of choices.
 */
import { describe, expect, it } from 'vitest';
import { parseWith, HttpProblem } from '../../lib/api/http.ts';
import { parsePayload } from '../../lib/domain/decide.ts';
import { DomainError, type FieldError } from '../../lib/domain/errors.ts';
import { ReferPayload } from '../../lib/domain/schemas.ts';
import type { CommandName } from '../../lib/domain/lifecycle.ts';
import { friendly } from '../../web/src/field-words.ts';

function bodyErrors(body: unknown): FieldError[] {
  try {
    parseWith(ReferPayload, body, 'referral');
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).status).toBe(400);
    return (error as HttpProblem).errors;
  }
  throw new Error('the referral was accepted');
}

function payloadErrors(command: CommandName, payload: unknown): FieldError[] {
  try {
    parsePayload(command, payload);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).name).toBe('InvalidCommand');
    return (error as DomainError).errors;
  }
  throw new Error(`${command} was accepted`);
}

const participant = { givenName: 'Jo', familyName: 'Example', dateOfBirth: '1990-04-01' };
const referral = { source: 'custody-diversion', localAuthority: 'sandwell' };
const review = (overrides: Record<string, unknown>) => ({ scores: { 'domestic-abuse': 4 }, outcome: 'continue', ...overrides });

describe('bad input in plain words', () => {
  const cases: [kind: string, errors: () => FieldError[], expected: FieldError][] = [
    ['a number above its bound', () => payloadErrors('record-review', review({ scores: { 'domestic-abuse': 11 } })), { path: 'scores.domestic-abuse', message: 'must be 10 or less' }],
    ['a number below its bound', () => bodyErrors({ participant, referral, reviewEveryDays: 3 }), { path: 'reviewEveryDays', message: 'must be 7 or more' }],
    ['a fraction for a whole number', () => payloadErrors('record-review', review({ scores: { 'domestic-abuse': 2.5 } })), { path: 'scores.domestic-abuse', message: 'must be a whole number' }],
    ['text for a number', () => bodyErrors({ participant, referral, reviewEveryDays: '14' }), { path: 'reviewEveryDays', message: 'must be a number' }],
    [
      'text for an object',
      () => payloadErrors('record-review', review({ attendees: ['bcwa'] })),
      { path: 'attendees.0', message: 'must be an object with role, and optionally providerId' },
    ],
    ['an empty list', () => payloadErrors('submit-assessment', { needs: [] }), { path: 'needs', message: 'must list at least one' }],
    ['a value outside a union of values', () => payloadErrors('record-follow-up', { month: 7, reoffended: 'no' }), { path: 'month', message: 'must be 6 or 12' }],
    ['an unknown option', () => payloadErrors('exit', { reason: 'finished' }), { path: 'reason', message: expect.stringMatching(/^must be one of "completed", "transferred", .* or "other"$/) as string }],
    ['a date that is no day of the calendar', () => bodyErrors({ participant: { ...participant, dateOfBirth: '1990-02-30' }, referral }), { path: 'participant.dateOfBirth', message: 'is not a real date (30 February)' }],
    ['29 February of a common year', () => bodyErrors({ participant: { ...participant, dateOfBirth: '1991-02-29' }, referral }), { path: 'participant.dateOfBirth', message: 'is not a real date (1991 has no 29 February)' }],
    ['a date in another form', () => bodyErrors({ participant: { ...participant, dateOfBirth: '01/04/1990' }, referral }), { path: 'participant.dateOfBirth', message: 'must be a date, like 2026-11-27' }],
    ['a missing field', () => bodyErrors({ participant: { givenName: 'Jo', dateOfBirth: '1990-04-01' }, referral }), { path: 'participant.familyName', message: 'is required' }],
    ['an empty text', () => bodyErrors({ participant: { ...participant, givenName: '' }, referral }), { path: 'participant.givenName', message: 'must not be empty' }],
    ['a field nobody asked for', () => bodyErrors({ participant, referral, nhsNumber: '1' }), { path: 'nhsNumber', message: 'is not a known field' }],
  ];

  it.each(cases)('%s', (_kind, errors, expected) => {
    expect(errors()).toContainEqual(expected);
  });

  it('says none of zod’s own words', () => {
    const zodWords = /Too (big|small)|Invalid (input|option|ISO)|expected \w+, received|<=|>=/;
    for (const [, errors] of cases) for (const e of errors()) expect(e.message).not.toMatch(zodWords);
  });

  it('the web shows the same words, the codes of a list of choices as the form’s options', () => {
    for (const [, errors] of cases) for (const e of errors()) if (!e.message.startsWith('must be one of')) expect(friendly(e.message)).toBe(e.message);
    expect(friendly('must be one of "completed", "transferred" or "other"')).toBe('Choose one of the options');
  });
});
