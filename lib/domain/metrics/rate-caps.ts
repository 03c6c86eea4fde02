/**
 * The most a published rate may read when not every one counted has the attribute, and the least when
 * some do (publishedRate in suppression.ts caps at them). No imports, so the web app's bundle carries it
 * as it is and the dashboard's words name the same caps the API applies (test/browser/web-constants.test.ts).
 */
export const RATE_BELOW_ALL = 0.99;
export const RATE_ABOVE_NONE = 0.01;
