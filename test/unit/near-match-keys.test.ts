/**
 * Near-match keys (lib/adapters/near-match.ts): what a referral is warned of as a possible duplicate of
 * another woman's open plan. Properties over random identities (fast-check, seeded): an identity always
 * near-matches itself after one keying slip (day and month swapped, names transposed, a changed given or
 * family name), and identities that share nothing (no name, no date of birth, not one read the other way
 * round) never do. And the keys hold nothing of her: fixed-length hex, different with another secret.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityMatchKey, normaliseName } from '../../lib/adapters/identity-match.ts';
import { daySwappedWithMonth, nearMatches, nearMatchKeys } from '../../lib/adapters/near-match.ts';

const SECRET = new Uint8Array(Buffer.from('near-match test secret, not a real one'));
const OTHER_SECRET = new Uint8Array(Buffer.from('another secret altogether'));
const RUNS = { numRuns: 500, seed: 20261129 };

/** A name with at least one letter a-z once normalised (accents, case, spaces and hyphens thrown in). */
const nameArb = fc
  .tuple(fc.stringMatching(/^[A-Za-z][A-Za-zÀ-ÿ' -]{0,14}$/), fc.constantFrom('', ' ', '-', "'"))
  .map(([name, tail]) => `${name}${tail}`)
  .filter((name) => normaliseName(name).length > 0);
const dateArb = fc.date({ min: new Date('1930-01-01T00:00:00Z'), max: new Date('2015-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const identityArb = fc.record({ givenName: nameArb, familyName: nameArb, dateOfBirth: dateArb });
type Identity = { givenName: string; familyName: string; dateOfBirth: string };

const sameName = (a: string, b: string) => normaliseName(a) === normaliseName(b);
/** Two identities that share nothing a near-match key is made of. */
const shareNothing = (a: Identity, b: Identity) =>
  !sameName(a.givenName, b.givenName) &&
  !sameName(a.familyName, b.familyName) &&
  !sameName(a.givenName, b.familyName) &&
  !sameName(a.familyName, b.givenName) &&
  a.dateOfBirth !== b.dateOfBirth &&
  daySwappedWithMonth(a.dateOfBirth) !== b.dateOfBirth;

describe('near-match keys', () => {
  it('an identity near-matches itself with day and month swapped, both ways, whenever the day could be a month', () => {
    fc.assert(
      fc.property(identityArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), (identity, day, month) => {
        fc.pre(day !== month);
        const held = { ...identity, dateOfBirth: `${identity.dateOfBirth.slice(0, 4)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` };
        const swapped = { ...held, dateOfBirth: daySwappedWithMonth(held.dateOfBirth) as string };
        expect(swapped.dateOfBirth).toBe(`${identity.dateOfBirth.slice(0, 4)}-${String(day).padStart(2, '0')}-${String(month).padStart(2, '0')}`);
        expect(nearMatches(SECRET, swapped, held)).toBe(true);
        expect(nearMatches(SECRET, held, swapped)).toBe(true);
      }),
      RUNS,
    );
  });

  it('an identity near-matches itself with another given name, another family name, or the names transposed', () => {
    fc.assert(
      fc.property(identityArb, nameArb, (held, otherName) => {
        expect(nearMatches(SECRET, { ...held, givenName: otherName }, held)).toBe(true);
        expect(nearMatches(SECRET, { ...held, familyName: otherName }, held)).toBe(true);
        fc.pre(!sameName(held.givenName, held.familyName));
        expect(nearMatches(SECRET, { ...held, givenName: held.familyName, familyName: held.givenName }, held)).toBe(true);
      }),
      RUNS,
    );
  });

  it('identities that share no name and no date of birth (nor one read the other way round) never near-match', () => {
    fc.assert(
      fc.property(identityArb, identityArb, (a, b) => {
        fc.pre(shareNothing(a, b));
        expect(nearMatches(SECRET, a, b)).toBe(false);
        expect(nearMatches(SECRET, b, a)).toBe(false);
      }),
      RUNS,
    );
  });

  it('the cases measured before: "Joanne Smith" and "Jo Smith" born the same day, and 04/03 against 03/04', () => {
    const joanne = { givenName: 'Joanne', familyName: 'Smith', dateOfBirth: '1990-03-04' };
    expect(nearMatches(SECRET, { ...joanne, givenName: 'Jo' }, joanne)).toBe(true);
    expect(nearMatches(SECRET, { ...joanne, dateOfBirth: '1990-04-03' }, joanne)).toBe(true);
    // Not near: another year, or a day that cannot be a month read the other way round.
    expect(nearMatches(SECRET, { ...joanne, givenName: 'Jo', dateOfBirth: '1991-03-04' }, joanne)).toBe(false);
    expect(daySwappedWithMonth('1990-03-13')).toBeUndefined();
    expect(daySwappedWithMonth('1990-05-05')).toBeUndefined();
  });

  it('keys are HMACs: 40 hex characters holding nothing of her, different under another secret, none equal to her exact match key', () => {
    fc.assert(
      fc.property(identityArb, (identity) => {
        const keys = nearMatchKeys(SECRET, identity);
        const all = [...keys.filed.map((f) => f.key), ...keys.slips.map((s) => s.key)];
        for (const key of all) expect(key).toMatch(/^[0-9a-f]{40}$/);
        expect(new Set(keys.filed.map((f) => f.key)).size).toBe(keys.filed.length);
        expect(keys.filed.map((f) => f.key)).not.toContain(identityMatchKey(SECRET, identity));
        const other = nearMatchKeys(OTHER_SECRET, identity);
        for (const [i, f] of keys.filed.entries()) expect(other.filed[i]?.key).not.toBe(f.key);
      }),
      RUNS,
    );
  });

  it('a name in another script files its keys as a Latin one does, and two such names file apart', () => {
    const fatima = nearMatchKeys(SECRET, { givenName: 'فاطمة', familyName: 'Khan', dateOfBirth: '1990-03-04' });
    expect(fatima.filed.map((f) => f.kind)).toEqual(['family-name-and-birth-date', 'given-name-and-birth-date']);
    // And, its given name having no letter a-z, the key it was stored under before such names kept their letters.
    expect(fatima.slips.map((s) => s.kind)).toEqual(['day-and-month-swapped', 'names-transposed', 'keyed-before-other-scripts']);
    expect(nearMatchKeys(SECRET, { givenName: 'Fatima', familyName: 'Khan', dateOfBirth: '1990-03-04' }).slips.map((s) => s.kind)).toEqual(['day-and-month-swapped', 'names-transposed']);
    const aisha = nearMatchKeys(SECRET, { givenName: 'عائشة', familyName: 'Ali', dateOfBirth: '1990-03-04' });
    expect(aisha.filed.find((f) => f.kind === 'given-name-and-birth-date')?.key).not.toBe(fatima.filed.find((f) => f.kind === 'given-name-and-birth-date')?.key);
  });
});
