/**
 * How provider events reach a provider's endpoint, as the providers API tells team leads and
 * providers. Two modes, given to the api-providers handler by whoever builds it:
 *
 * - `signed-webhooks` (the embedded stack): a team lead subscribes a URL; deliveries are signed
 *   with the subscription's `whsec_` secret, retried, logged and replayable through the API.
 * - `deploy-configured` (AWS): an EventBridge API destination per provider, its URL set when the
 *   stack is deployed (context `providerWebhooks`), every request carrying the provider's API key
 *   in WEBHOOK_KEY_HEADER (a Secrets Manager secret). Nothing the API could subscribe, sign, rotate
 *   or log takes part, so those routes refuse and say so.
 *
 * Plain data and zod only: the Lambda bundle and the CDK stack both import it (the stack for the
 * header, the placeholder and the environment it hands api-providers).
 */
import * as z from 'zod';
import { webhookUrlProblem } from '../../local/webhooks/url-policy.ts';

/** The header carrying each provider's API key on AWS; its endpoint rejects requests without the right one. */
export const WEBHOOK_KEY_HEADER = 'X-Wraparound-Key';

/**
 * Where events go on AWS for a provider with no configured webhook: `.invalid` is reserved (RFC
 * 2606) and never resolves, so nothing leaves AWS; the events are retried, dead-lettered and alarmed on.
 */
export function placeholderWebhookUrl(providerId: string): string {
  return `https://${providerId}.webhooks.invalid/wraparound/events`;
}

/**
 * api-providers' environment on AWS: the deploy's providerWebhooks (providerId → https URL), as JSON.
 * Only the configured ones: every other provider of the directory posts to its placeholder.
 */
export const PROVIDER_WEBHOOKS_ENV = 'PROVIDER_WEBHOOKS';

/** Where to read how delivery is set up on AWS, and changed: named in every answer that explains it. */
export const DEPLOY_GUIDE = 'docs/deploy.md, "Provider webhooks"';

/** One provider's destination on AWS, as GET /providers/{id}/subscriptions shows it (never the key's value). */
export interface ProviderDestination {
  providerId: string;
  endpoint: string;
  /** True while no URL is configured: events go to the `.invalid` placeholder and are dead-lettered. */
  placeholder: boolean;
  keyHeader: typeof WEBHOOK_KEY_HEADER;
}

export type ProviderDeliveryMode =
  | { kind: 'signed-webhooks' }
  | { kind: 'deploy-configured'; destinationOf: (providerId: string) => ProviderDestination }
  /** On AWS with a PROVIDER_WEBHOOKS that does not validate: the webhook routes answer 500 naming no setting (the log has it). */
  | { kind: 'misconfigured' };

/** The AWS mode from the configured URLs; a provider not among them posts to its placeholder. */
export function deployConfigured(webhooks: Readonly<Record<string, string>>): ProviderDeliveryMode {
  return {
    kind: 'deploy-configured',
    destinationOf: (providerId) => {
      const configured = Object.hasOwn(webhooks, providerId) ? webhooks[providerId] : undefined;
      return { providerId, endpoint: configured ?? placeholderWebhookUrl(providerId), placeholder: configured === undefined, keyHeader: WEBHOOK_KEY_HEADER };
    },
  };
}

/**
 * Why a configured webhook URL cannot be a provider's destination, or undefined: the target policy
 * of lib/local/webhooks/url-policy.ts as it applies off this machine (https, a public host, no
 * credentials or fragment). Checked at synth, and again when api-providers starts.
 */
export function destinationUrlProblem(url: string): string | undefined {
  return webhookUrlProblem(url, { embedded: false });
}

const ProviderWebhookUrls = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a provider id'), z.string());

/**
 * Why configured webhooks (provider id → URL) cannot be the providers' destinations, one sentence each,
 * `setting` being what whoever set them calls them: an id that is not a provider of the directory, a URL
 * the target policy refuses. Empty when they can. The synth (providerWebhooks) and api-providers' start
 * (PROVIDER_WEBHOOKS) both say these, so the two cannot come to disagree.
 */
export function webhookSettingProblems(setting: string, webhooks: Readonly<Record<string, string>>, providerIds: readonly string[]): string[] {
  const unknown = Object.keys(webhooks).filter((providerId) => !providerIds.includes(providerId));
  const refused = Object.entries(webhooks).flatMap(([providerId, url]) => {
    const problem = destinationUrlProblem(url);
    return problem ? [`${setting}.${providerId}: the URL ${problem}`] : [];
  });
  return [...(unknown.length > 0 ? [`${setting} names ${unknown.map((id) => `"${id}"`).join(', ')}, not a provider of the directory (${providerIds.join(', ')})`] : []), ...refused];
}

/**
 * The configured webhook URLs from the environment (PROVIDER_WEBHOOKS), checked: JSON of provider id
 * to a URL the target policy accepts, every id a provider of the directory. Absent means none is
 * configured. A bad value throws an Error naming the variable, the entry and the rule.
 */
export function readProviderWebhooks(env: Record<string, string | undefined>, providerIds: readonly string[]): Record<string, string> {
  const raw = env[PROVIDER_WEBHOOKS_ENV];
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${PROVIDER_WEBHOOKS_ENV} is not JSON: it must be an object of provider id to https URL.`);
  }
  const checked = ProviderWebhookUrls.safeParse(parsed);
  if (!checked.success) throw new Error(`${PROVIDER_WEBHOOKS_ENV}: ${checked.error.issues.map((i) => `${i.path.join('.') || '(the value)'}: ${i.message}`).join('; ')}.`);
  const problems = webhookSettingProblems(PROVIDER_WEBHOOKS_ENV, checked.data, providerIds);
  if (problems.length > 0) throw new Error(`${problems.join('; ')}.`);
  return checked.data;
}
