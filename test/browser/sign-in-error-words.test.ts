/**
 * The sign-in page back from the hosted UI with `?error=`: it says what happened in its own words.
 * Anyone can send a member of staff a link to /sign-in?error=..., so whatever text that link carries
 * must not appear on the page as if the app said it (a phone number to "unlock your account").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    // A hosted UI that is never reached: the page only reads the answer in its own address.
    webRuntimeConfig: { stage: 'test', region: 'eu-west-2', apiUrl: '', userPoolId: 'eu-west-2_test', userPoolClientId: 'wraparound-web-test', hostedUiDomain: 'https://auth.example.invalid', redirectUri: 'http://localhost/sign-in', logoutUri: 'http://localhost/', scope: 'openid email profile' },
  });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

async function alertAfter(query: string): Promise<string> {
  const { page } = await h.page();
  await page.goto(`${h.url}/sign-in?${query}`);
  const alert = page.getByRole('alert');
  await alert.waitFor();
  return (await alert.textContent()) ?? '';
}

describe('sign-in refused at the hosted UI', () => {
  it('does not repeat text from the link as its own words', async () => {
    const text = await alertAfter(`error=${encodeURIComponent('Your account is locked. Call 0800 000 1234 to unlock it')}`);
    expect(text).not.toContain('0800');
    expect(text).toBe('The sign-in service did not sign you in. Sign in again.');
  });

  it('does not take an error named after an object property for a message', async () => {
    expect(await alertAfter('error=constructor')).toBe('The sign-in service did not sign you in (constructor). Sign in again.');
  });

  it('still names an OAuth error code it has no words for, and uses its words for one it knows', async () => {
    expect(await alertAfter('error=login_required')).toBe('The sign-in service did not sign you in (login_required). Sign in again.');
    expect(await alertAfter('error=access_denied')).toBe('Sign-in was cancelled or refused, so you are not signed in.');
  });
});
