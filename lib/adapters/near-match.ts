import { createHmac } from 'node:crypto';
import type { Participant } from '../domain/schemas.ts';
import { identityMatchKey, identityMatchKeyBeforeOtherScripts, normaliseName } from './identity-match.ts';

type Identity = Pick<Participant, 'givenName' | 'familyName' | 'dateOfBirth'>;

/**
 * Near-match keys: how a referral of a woman who already has an open plan is noticed when her name or
 * date of birth was keyed in a little differently, so the coordinator is warned before a second plan
 * (and a second set of providers contacting her) is opened. A warning, never a link: a near match is
 * not her (twins share a surname and a birthday), so nothing is merged and the coordinator decides.
 *
 * Each is an HMAC with the secret and the normalisation of the exact match key (identity-match.ts), so
 * the table holds no name or date of birth and nobody without the secret can try names against it. Two
 * sorts:
 *
 * - *Filed* keys: near-match items (keys.nearMatch) written with her referral, each listing the plans
 *   filed under it, and deleted with her identity. A referral looks up its own filed keys.
 *   - `family-name-and-birth-date`: her family name and date of birth, without the given name. Catches
 *     a short or other form of the given name ("Jo" / "Joanne", "Kate" / "Catherine"), a misspelt or
 *     transliterated one ("Aisha" / "Ayesha"), and a middle name keyed as the given name. Also flags
 *     twin sisters and, rarely, two unrelated women sharing a surname and a birthday: with 1,000 open
 *     plans of women born over some 50 years, a woman named Smith (about 1.3% of people) is flagged on
 *     about 1 referral in 1,400 (13 Smiths, each born on one of 18,000 days); a rarer name far less often.
 *   - `given-name-and-birth-date`: her given name and date of birth, without the family name. Catches
 *     a changed surname (marriage, separation, a name taken to be safe from an abuser, a double-barrelled
 *     name keyed in part) and a misspelt one. Flags unrelated women sharing a given name and a birthday:
 *     about as rare as the first, since common given names are about as common as common surnames.
 *   A name in another script keeps its own letters (normaliseName), so it files keys as a Latin name
 *   does; a name part that still read as nothing would not be made into a key (it would file every such
 *   woman born that day together), though the referral schema now refuses a name with no letter.
 * - *Slip* keys: the exact match key of her identity as it would read after one keying slip, looked up
 *   among the person records every referral already writes (keys.person), so they cost no item of their
 *   own and find women referred before near-match items existed.
 *   - `day-and-month-swapped`: 04/03 read as 03/04 (a date keyed in the other order). Only when the day
 *     could be a month (1-12) and differs from it.
 *   - `names-transposed`: the given and family names keyed into each other's field.
 *   Both need everything else to be equal, so they flag almost nobody who is not her.
 *   - `keyed-before-other-scripts`: for a name with no letter a-z, her exact match key as it was made
 *     before such names kept their letters (identityMatchKeyBeforeOtherScripts). A woman referred then
 *     is found only under it; it is shared by every such woman born on her day, so it warns, never links.
 *
 * Not caught: two slips at once (a short given name and a swapped date), a wrong year, a typo in both
 * names. The exact match key stays what links a woman's plans; these only warn.
 */
export type FiledNearMatchKind = 'family-name-and-birth-date' | 'given-name-and-birth-date';
export type SlipKind = 'day-and-month-swapped' | 'names-transposed' | 'keyed-before-other-scripts';

export interface NearMatchKeys {
  /** Near-match items her referral is filed under, and looks up. */
  filed: { kind: FiledNearMatchKind; key: string }[];
  /** Exact match keys (person records) of her identity after one slip: looked up only. */
  slips: { kind: SlipKind; key: string }[];
}

const hmac = (secret: Uint8Array, text: string) => createHmac('sha256', secret).update(text).digest('hex').slice(0, 40);

/**
 * Her date of birth with day and month swapped, when the day could be a month and differs from it; a
 * day 1-12 as a month and a month 1-12 as a day always make a real date.
 */
export function daySwappedWithMonth(dateOfBirth: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth);
  if (!match) return undefined;
  const [, year, month, day] = match as unknown as [string, string, string, string];
  return Number(day) <= 12 && day !== month ? `${year}-${day}-${month}` : undefined;
}

export function nearMatchKeys(secret: Uint8Array, identity: Identity): NearMatchKeys {
  const given = normaliseName(identity.givenName);
  const family = normaliseName(identity.familyName);
  const dob = identity.dateOfBirth;
  const filed: NearMatchKeys['filed'] = [];
  // The kind opens the HMAC's input, so no filed key equals another kind's or an exact match key
  // (whose input starts with a name, letters only).
  if (family) filed.push({ kind: 'family-name-and-birth-date', key: hmac(secret, `near:family-name-and-birth-date|${family}|${dob}`) });
  if (given) filed.push({ kind: 'given-name-and-birth-date', key: hmac(secret, `near:given-name-and-birth-date|${given}|${dob}`) });
  const slips: NearMatchKeys['slips'] = [];
  const swapped = daySwappedWithMonth(dob);
  if (swapped) slips.push({ kind: 'day-and-month-swapped', key: identityMatchKey(secret, { ...identity, dateOfBirth: swapped }) });
  if (given && family && given !== family) slips.push({ kind: 'names-transposed', key: identityMatchKey(secret, { givenName: identity.familyName, familyName: identity.givenName, dateOfBirth: dob }) });
  // Not a slip of hers but of the key's: a name in another script read as nothing before it kept its letters.
  const before = identityMatchKeyBeforeOtherScripts(secret, identity);
  if (before) slips.push({ kind: 'keyed-before-other-scripts', key: before });
  return { filed, slips };
}

/**
 * Whether a referral of `referred` would be warned about a plan of `held` (held's referral filed its
 * near-match items and her person record): one of referred's filed or slip keys is one of held's filed
 * keys or her exact match key. What the property tests check; the referral route asks the store.
 */
export function nearMatches(secret: Uint8Array, referred: Identity, held: Identity): boolean {
  const asked = nearMatchKeys(secret, referred);
  const heldKeys = nearMatchKeys(secret, held);
  const filedHeld = new Set(heldKeys.filed.map((f) => `near:${f.key}`));
  const exactHeld = `person:${identityMatchKey(secret, held)}`;
  return asked.filed.some((f) => filedHeld.has(`near:${f.key}`)) || asked.slips.some((s) => `person:${s.key}` === exactHeld);
}
