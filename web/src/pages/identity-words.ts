/**
 * The words of her contact details, in the API's own values (checked against lib/domain/schemas.ts
 * by test/browser/web-constants.test.ts): kept apart from the components so a test can read them.
 */
export const CONTACT_METHODS = [
  ['phone-call', 'Phone call'],
  ['text-message', 'Text message'],
  ['email', 'Email'],
  ['letter', 'Letter'],
] as const;

/** The yes/no safety questions, as the API names them, with how a worker should read each answer. */
export const SAFETY_QUESTIONS = [
  ['safeToLeaveVoicemail', 'Safe to leave a voicemail?', 'Never leave a voicemail'],
  ['safeToText', 'Safe to send a text?', 'Never send a text'],
  ['safeToSendPost', 'Safe to send post?', 'Never post anything to her'],
  ['safeToSayServiceName', "Safe to say which service is calling?", "Don't say which service is calling until she confirms it's safe"],
] as const;
