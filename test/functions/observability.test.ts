import { describe, expect, it } from 'vitest';

describe('observability outside Lambda', () => {
  it('does not load the X-Ray SDK, whose context tracking hooks every promise of the embedded stack', async () => {
    const { observability, traced } = await import('../../lib/runtime/observability.ts');
    await import('../../lib/local/embedded-stack.ts');
    const client = { send: () => undefined };
    expect(traced(client)).toBe(client);
    expect(observability().tracer).toBeUndefined();
    expect((process as { namespaces?: Record<string, unknown> }).namespaces?.AWSXRay).toBeUndefined();
  });
});
