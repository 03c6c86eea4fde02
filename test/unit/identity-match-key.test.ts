/**
 * The exact match key links a woman's referrals. A name written only in another script used to read as
 * empty, so two such women born on the same day shared one key (and the second referral took the first
 * woman's identity record); names with any letter a-z must keep the keys stored before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityMatchKey, identityMatchKeyBeforeOtherScripts, normaliseName } from '../../lib/adapters/identity-match.ts';
import { Participant } from '../../lib/domain/schemas.ts';

const secret = new TextEncoder().encode('a test secret of enough length for an hmac');
const born = '1990-05-14';

/** The normalisation every key stored before 2026-11-29 was made with. */
const storedKeysNormalisation = (s: string) => s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z]/g, '');

describe('the exact match key', () => {
  it('tells apart two women whose names are written in another script, born on the same day', () => {
    const olga = identityMatchKey(secret, { givenName: 'Ольга', familyName: 'Иванова', dateOfBirth: born });
    const maria = identityMatchKey(secret, { givenName: 'Мария', familyName: 'Петрова', dateOfBirth: born });
    const fatima = identityMatchKey(secret, { givenName: 'فاطمة', familyName: 'حسن', dateOfBirth: born });
    expect(new Set([olga, maria, fatima]).size).toBe(3);
  });

  it('still reads case and accents away in any script', () => {
    expect(normaliseName('Ἀλέξανδρα')).toBe(normaliseName('αλεξανδρα'));
    expect(identityMatchKey(secret, { givenName: 'ОЛЬГА', familyName: 'Иванова', dateOfBirth: born })).toBe(identityMatchKey(secret, { givenName: 'Ольга', familyName: 'иванова', dateOfBirth: born }));
  });

  it('is unchanged for every name with a letter a-z, so no stored key moves', () => {
    const name = fc.stringMatching(/^[A-Za-zÀ-ÿ' .-]{0,20}$/).filter((s) => /[a-z]/i.test(s.normalize('NFKD')));
    fc.assert(
      fc.property(name, (s) => normaliseName(s) === storedKeysNormalisation(s)),
      { numRuns: 1000, seed: 20261129 },
    );
  });

  it('is never made from a name with no letter: such a name is refused', () => {
    const result = Participant.safeParse({ givenName: '---', familyName: '42', dateOfBirth: born });
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(['givenName: must contain a letter', 'familyName: must contain a letter']);
    expect(Participant.safeParse({ givenName: 'Ольга', familyName: "O'Neil", dateOfBirth: born }).success).toBe(true);
  });

  it('reads no name the schema takes as nothing, not even one of the letters that decompose to marks alone', () => {
    // Every letter in Unicode, each a name of its own: the schema takes it (it has a letter), so the key must read it.
    const readAsNothing: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp += 1) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const letter = String.fromCodePoint(cp);
      if (/\p{L}/u.test(letter) && normaliseName(letter) === '') readAsNothing.push(`U+${cp.toString(16).toUpperCase()}`);
    }
    expect(readAsNothing).toEqual([]);
    // Two women named only with such letters (Arabic fathatan and dammatan, isolated forms), born on one day.
    const first = { givenName: '\uFE70', familyName: '\uFE72', dateOfBirth: born };
    const second = { givenName: '\uFE74', familyName: '\uFE76', dateOfBirth: born };
    expect(Participant.safeParse(first).success && Participant.safeParse(second).success).toBe(true);
    expect(identityMatchKey(secret, first)).not.toBe(identityMatchKey(secret, second));
  });

  it('had another key before only for a name with letters but none a-z', () => {
    const olga = { givenName: 'Ольга', familyName: 'Smith', dateOfBirth: born };
    expect(identityMatchKeyBeforeOtherScripts(secret, olga)).toBe(identityMatchKeyBeforeOtherScripts(secret, { ...olga, givenName: 'Мария' }));
    expect(identityMatchKeyBeforeOtherScripts(secret, olga)).not.toBe(identityMatchKey(secret, olga));
    expect(identityMatchKeyBeforeOtherScripts(secret, { ...olga, givenName: 'Olga' })).toBeUndefined();
    // A given name not known, held from before names needed a letter: read as nothing then and now, the same key.
    expect(identityMatchKeyBeforeOtherScripts(secret, { ...olga, givenName: '?' })).toBeUndefined();
  });
});
