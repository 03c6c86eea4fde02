/**
 * Her age at referral, from her date of birth and the referral's London date (the injected clock's,
 * so a simulated year counts as one). Only the age reaches the plan; the date of birth stays with her
 * identity.
 */

/**
 * The youngest anyone can be referred: 10, the age of criminal responsibility in England and Wales
 * (Children and Young Persons Act 1933, s. 50). A diversion programme is for someone caught in crime,
 * so a younger age is a mistyped date of birth. The programme's own eligibility (New Chance serves
 * women; which ages each service takes) is the directory's, checked at allocation.
 */
const YOUNGEST_AT_REFERRAL = 10;
const OLDEST_AT_REFERRAL = 120;

/** Whole years from a date of birth to a date (YYYY-MM-DD); a 29 February birthday comes on 1 March. */
export function ageOn(dateOfBirth: string, today: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = today.split('-').map(Number) as [number, number, number];
  return ty - by - (tm < bm || (tm === bm && td < bd) ? 1 : 0);
}

/** What is wrong with a date of birth for a referral made on `today`, in words for the field; undefined if nothing. */
export function dateOfBirthRefusal(dateOfBirth: string, today: string): string | undefined {
  if (dateOfBirth > today) return 'must not be in the future';
  const age = ageOn(dateOfBirth, today);
  if (age > OLDEST_AT_REFERRAL) return `gives an age over ${OLDEST_AT_REFERRAL}`;
  if (age < YOUNGEST_AT_REFERRAL)
    return `gives an age of ${age} on the referral date (${today}); no one under ${YOUNGEST_AT_REFERRAL}, the age of criminal responsibility in England and Wales, can be referred: check the date of birth`;
  return undefined;
}
