import * as z from 'zod';

/**
 * HTTP preconditions on her identity record (RFC 9110 13.1.1): the coordinator's correction is sent
 * with the entity tag her details were read with, and refused (412) when someone else changed them.
 */

/**
 * Her identity record's entity tag: its revision, quoted (RFC 9110 8.8.3), so `"0"` for a record never
 * changed. GET /plans/{planId} gives it (ETag header of the correction, `participantRevision` of the
 * plan), PATCH /plans/{planId}/participant takes it back in If-Match.
 */
export const identityEntityTag = (revision: number) => `"${revision}"`;

/** One entity tag as If-Match may list it: opaque visible characters in quotes, `W/` before it when weak. */
const ENTITY_TAG = String.raw`(?:W/)?"[\x21\x23-\x7e]*"`;

/**
 * If-Match (RFC 9110 13.1.1): `*`, or one or more entity tags separated by commas. Weak tags are
 * accepted in the syntax but never match (If-Match compares strongly). Empty list elements (`"3",`,
 * `, "3"`: what merging two header lines can leave) are ignored, as RFC 9110 5.6.1.2 asks of a
 * recipient. Each comma is taken with the spaces before it, so a long run of them is read once.
 */
export const IfMatch = z
  .string()
  .trim()
  .regex(new RegExp(`^(?:\\*|(?:\\s*,)*\\s*${ENTITY_TAG}(?:(?:\\s*,)+\\s*${ENTITY_TAG})*(?:\\s*,)*)$`), 'must be "*" or the ETag her details were read with, such as "3" (with the quotes)')
  .describe(
    'Correct only if her details are still as read: the ETag of the last correction, or `"<participantRevision>"` of GET /plans/{planId}. When they changed since, the answer is 412 and nothing changes. Without it, the correction is written on her details as they are then.',
  );

/** Whether an If-Match value (already valid) holds for a record at `revision`. */
export function ifMatchHolds(ifMatch: string, revision: number): boolean {
  if (ifMatch.trim() === '*') return true;
  const wanted = identityEntityTag(revision);
  return (ifMatch.match(new RegExp(ENTITY_TAG, 'g')) ?? []).some((tag) => tag === wanted);
}
