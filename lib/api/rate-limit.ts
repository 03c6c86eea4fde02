/**
 * At most `max` of something per key in any `windowMs`: a sliding window over the times of the last
 * `max` taken, per key. In memory, so per process: where it is used (the embedded stack's test
 * deliveries) one process serves every request. Keys are expected to be few (provider ids).
 */
export interface RateLimit {
  max: number;
  windowMs: number;
}

export type RateLimitTake = { ok: true } | { ok: false; retryAfterMs: number };

export class SlidingWindowLimit {
  readonly limit: RateLimit;
  private readonly taken = new Map<string, number[]>();

  constructor(limit: RateLimit) {
    if (!Number.isInteger(limit.max) || limit.max < 1 || !(limit.windowMs > 0)) throw new Error(`rate limit: max must be a whole number from 1 and windowMs above 0 (got ${limit.max}, ${limit.windowMs})`);
    this.limit = limit;
  }

  /** Takes one for `key` at `nowMs` if the window has room; else says how long until it has. Taken synchronously, so requests at once cannot overrun it. */
  take(key: string, nowMs: number): RateLimitTake {
    const recent = (this.taken.get(key) ?? []).filter((at) => at > nowMs - this.limit.windowMs);
    if (recent.length >= this.limit.max) {
      this.taken.set(key, recent);
      // Room comes back when the oldest of the window leaves it.
      return { ok: false, retryAfterMs: (recent[0] as number) + this.limit.windowMs - nowMs };
    }
    recent.push(nowMs);
    this.taken.set(key, recent);
    return { ok: true };
  }
}

/**
 * Test deliveries a provider's webhook may be sent: a few a minute, enough to try a receiver, fix it and
 * try again. Each one is a signed request from this stack to a URL the provider chose, so without a bound
 * a provider (or anyone holding a provider's token) could have it send them without end. The handler
 * enforces it and the OpenAPI document states it.
 */
export const TEST_DELIVERY_LIMIT: RateLimit = { max: 5, windowMs: 60_000 };
