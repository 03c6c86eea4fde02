/**
 * The embedded gateway's query parameters, over real HTTP: a parameter named like a property every
 * object inherits is a parameter like any other. The gateway joins a repeated parameter with commas
 * (as API Gateway does; test/integration/metrics.test.ts checks that); it did so by assignment on a
 * plain object, where `query['__proto__'] = 'x'` sets no parameter, so `?__proto__=x` vanished and the
 * request went ahead as if it had none, where any other unknown parameter is a 400 naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('a query parameter named like an inherited property', () => {
  it('refuses __proto__ as an unknown parameter, naming it, as any other', async () => {
    const res = await t.call('GET', '/providers/bcwa/allocations?__proto__=x', { token: t.provider('bcwa') });
    expect(res.status, res.text).toBe(400);
    expect(res.text).toContain('__proto__');
  });
});
