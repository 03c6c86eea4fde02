/**
 * How long a rotated webhook secret keeps signing beside the new one: the API's request schema
 * (RotateSecretRequest) checks it with these, and the web app's rotation form shows them. It imports
 * nothing, so the browser bundle carries it as it is (test/browser/web-constants.test.ts).
 */

/** The overlap in whole hours: its default and the bounds a request may ask for. */
export const ROTATION_OVERLAP_HOURS = { default: 24, min: 1, max: 72 } as const;

/** The rule an overlap must keep, in the words the API's 400 names it with. */
export const ROTATION_OVERLAP_RULE = `must be whole hours from ${ROTATION_OVERLAP_HOURS.min} to ${ROTATION_OVERLAP_HOURS.max}`;
