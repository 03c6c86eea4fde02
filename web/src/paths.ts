/**
 * Every path of the app. None starts like an API route: the embedded stack serves the app and the
 * API on one port, and test/browser/serving.test.ts checks no API route matches these.
 */
export const APP_PATHS = ['/', '/sign-in', '/worklist', '/referrals/new', '/plan/:planId', '/escalated', '/inbox', '/caseload', '/caseload/:allocationId', '/webhook', '/dashboard', '/audit-log', '/services'] as const;
