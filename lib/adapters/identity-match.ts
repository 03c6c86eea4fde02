import { createHmac } from 'node:crypto';
import type { Participant } from '../domain/schemas.ts';

/**
 * A name as the match keys read it: accents, case, spaces and punctuation dropped, letters a-z kept.
 * A name with no letter a-z at all (one written only in another script: Cyrillic, Arabic, Greek...)
 * keeps its letters instead: reading it as a-z only left nothing, so two such women born on one day
 * had one key, and a referral of the second was linked to the first woman's identity record. Names
 * with any a-z letter read as they always have, so their stored keys do not change.
 */
export const normaliseName = (s: string): string => {
  const folded = s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const latin = folded.replace(/[^a-z]/g, '');
  if (latin) return latin;
  // A few letters decompose to marks alone (an Arabic vowel sign's isolated presentation form, the
  // halfwidth katakana sound marks, the Greek iota subscript): such a letter is kept as written, so a
  // name the referral schema takes (it has a letter) never reads as nothing, which is one key for all.
  return folded.replace(/[^\p{L}]/gu, '') || s.toLowerCase().replace(/[^\p{L}]/gu, '');
};

/**
 * The key under which a woman's plans are linked: an HMAC of her normalised identity with a secret
 * kept outside the table. A plain hash of name and date of birth could be reversed by trying names;
 * without the secret this one cannot.
 *
 * Only name and date of birth go in, never contact details or address: those change (a new phone, a
 * move to a refuge), and a key that changed with them would fail to recognise her when she is
 * referred again, or split her plans in two.
 */
export function identityMatchKey(secret: Uint8Array, participant: Pick<Participant, 'givenName' | 'familyName' | 'dateOfBirth'>): string {
  return matchKeyOf(secret, normaliseName(participant.familyName), normaliseName(participant.givenName), participant.dateOfBirth);
}

const matchKeyOf = (secret: Uint8Array, family: string, given: string, dateOfBirth: string) => createHmac('sha256', secret).update(`${family}|${given}|${dateOfBirth}`).digest('hex').slice(0, 40);

/** How names were read before 2026-11-29: letters a-z only, so a name in another script read as nothing. */
const latinLettersOnly = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z]/g, '');

/**
 * The exact match key her person record was stored under before names in other scripts kept their
 * letters, when it is not her key now: a given or family name with no letter a-z read as nothing, so
 * every such woman born on her day shares it, and a woman referred then is found under it, not under her
 * key now. So it links nobody: it is looked up as a near match (near-match.ts), so that her open plan
 * from then is warned of instead of a second one opened without a word.
 */
export function identityMatchKeyBeforeOtherScripts(secret: Uint8Array, participant: Pick<Participant, 'givenName' | 'familyName' | 'dateOfBirth'>): string | undefined {
  const family = latinLettersOnly(participant.familyName);
  const given = latinLettersOnly(participant.givenName);
  // A name with a letter a-z reads the same both ways (normaliseName), as does one with no letter at all
  // (a '?' held from before): only a name with letters but none a-z moved.
  if (family === normaliseName(participant.familyName) && given === normaliseName(participant.givenName)) return undefined;
  return matchKeyOf(secret, family, given, participant.dateOfBirth);
}
