import { Webhook } from 'standardwebhooks';

/** Header names of the Standard Webhooks spec. */
export const WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/**
 * The Standard Webhooks headers for one attempt: `webhook-id` is the event id (the same on every
 * retry and replay, so receivers dedupe on it), `webhook-timestamp` the attempt's Unix seconds and
 * `webhook-signature` `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` per secret, computed by the
 * `standardwebhooks` reference library so it is exactly what its `Webhook.verify` accepts.
 */
export function signatureHeaders(secrets: string | readonly string[], messageId: string, at: Date, body: string): Record<string, string> {
  // Several secrets (a rotation's overlap): one signature each, space-separated, as the spec allows;
  // a receiver verifying with any one of the secrets finds its signature among them.
  const signatures = (typeof secrets === 'string' ? [secrets] : secrets).map((secret) => new Webhook(secret).sign(messageId, at, body));
  return {
    [WEBHOOK_HEADERS.id]: messageId,
    [WEBHOOK_HEADERS.timestamp]: String(Math.floor(at.getTime() / 1000)),
    [WEBHOOK_HEADERS.signature]: signatures.join(' '),
  };
}
