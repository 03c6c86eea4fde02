/**
 * The stack tells api-providers where each provider's events go (PROVIDER_WEBHOOKS: the deploy's
 * providerWebhooks), so its GET subscriptions can show the destination instead of subscriptions
 * that sign nothing. Only api-providers gets it, and never a key: the API key stays in Secrets Manager.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployConfigured, placeholderWebhookUrl, PROVIDER_WEBHOOKS_ENV, readProviderWebhooks } from '../../lib/adapters/events/provider-destinations.ts';
import { synthStack, type Synthesized } from './synth.ts';

const BCWA_URL = 'https://hooks.bcwa.example/wraparound';

type Resource = { Type: string; Properties: Record<string, unknown> };
const functionsOf = (s: Synthesized) =>
  Object.values(s.template.toJSON().Resources as Record<string, Resource>)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => ({ name: String(r.Properties.FunctionName), variables: (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables }));

describe('PROVIDER_WEBHOOKS: the deploy-configured destinations, given to api-providers', () => {
  let configured: Synthesized;
  let none: Synthesized;
  beforeAll(() => {
    configured = synthStack('prod', { bundle: false, context: { providerWebhooks: { bcwa: BCWA_URL } } });
    none = synthStack('dev', { bundle: false });
  });
  afterAll(() => {
    configured?.cleanup();
    none?.cleanup();
  });

  it('api-providers gets the configured URLs, as the API destinations have them; no other function gets it', () => {
    const fns = functionsOf(configured);
    const providers = fns.find((f) => f.name === `${configured.config.namePrefix}-api-providers`);
    expect(providers?.variables[PROVIDER_WEBHOOKS_ENV]).toBe(JSON.stringify({ bcwa: BCWA_URL }));
    for (const f of fns.filter((x) => x !== providers)) expect(PROVIDER_WEBHOOKS_ENV in f.variables, f.name).toBe(false);
    // The same URL the rule's API destination posts to.
    configured.template.hasResourceProperties('AWS::Events::ApiDestination', { Name: `${configured.config.namePrefix}-bcwa`, InvocationEndpoint: BCWA_URL });
  });

  it('is what the function reads at start: the configured endpoint, the others at the placeholder their API destination has', () => {
    const value = functionsOf(configured).find((f) => f.name.endsWith('-api-providers'))?.variables[PROVIDER_WEBHOOKS_ENV] as string;
    const providerIds = configured.stack.providerDelivery.channels.map((c) => c.providerId);
    const mode = deployConfigured(readProviderWebhooks({ [PROVIDER_WEBHOOKS_ENV]: value }, providerIds));
    if (mode.kind !== 'deploy-configured') throw new Error(mode.kind);
    for (const channel of configured.stack.providerDelivery.channels) {
      expect(mode.destinationOf(channel.providerId), channel.providerId).toMatchObject({ endpoint: channel.endpoint, placeholder: channel.placeholder });
    }
    expect(mode.destinationOf('anawim').endpoint).toBe(placeholderWebhookUrl('anawim'));
  });

  it('with no webhooks configured: an empty object, so every provider shows its placeholder', () => {
    const providers = functionsOf(none).find((f) => f.name.endsWith('-api-providers'));
    expect(providers?.variables[PROVIDER_WEBHOOKS_ENV]).toBe('{}');
  });

  it('carries no key: nothing from Secrets Manager or the connection, only URLs', () => {
    const value = functionsOf(configured).find((f) => f.name.endsWith('-api-providers'))?.variables[PROVIDER_WEBHOOKS_ENV];
    expect(typeof value).toBe('string');
    expect(Object.values(JSON.parse(value as string) as Record<string, string>).every((url) => url.startsWith('https://'))).toBe(true);
  });
});
