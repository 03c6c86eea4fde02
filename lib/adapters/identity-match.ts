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
  return createHmac('sha256', secret).update(`${normaliseName(participant.familyName)}|${normaliseName(participant.givenName)}|${participant.dateOfBirth}`).digest('hex').slice(0, 40);
}
