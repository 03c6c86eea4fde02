/**
 * GET /plans with a cursor and neither stage nor due: the refusal named stage alone ('cursor: needs a
 * stage', 'only valid together with stage') though the due lists take a cursor too, and its detail was
 * not worded as every other refusal of the query ('The query is not valid: …').
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

describe('a cursor without its list', () => {
  it('is refused naming cursor and the lists that take one', async () => {
    const res = await t.call('GET', '/plans?cursor=abc', { token: t.coordinator });
    expect(res.status).toBe(400);
    expect(res.json.detail).toBe('The query is not valid: cursor: only valid with the stage or due list that returned it');
    expect(res.json.errors).toEqual([{ path: 'cursor', message: 'only valid with the stage or due list that returned it' }]);
  });
});
