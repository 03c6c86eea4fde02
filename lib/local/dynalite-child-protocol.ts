/**
 * What the stack (lib/local/dynalite-server.ts) and the dynalite process it forks
 * (lib/local/dynalite-child.ts) share. Kept apart from both so the child loads dynalite and nothing else
 * (no AWS SDK): its memory is counted in the stack's resident total.
 */
import type { Server } from 'node:http';

/** Tables are usable at once (dynalite's defaults keep them CREATING for half a second). */
export const DYNALITE_TIMINGS = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 } as const;

export interface DynaliteChildOptions {
  /** LevelDB directory; absent: in memory. */
  path?: string;
}

/** From the child: its port once dynalite listens, or why it could not; `closed` once LevelDB is closed. */
export type ChildMessage = { type: 'listening'; port: number } | { type: 'failed'; message: string } | { type: 'closed' };
/** From the stack. */
export type ParentMessage = { type: 'close' };

/**
 * Stop accepting connections, let the requests in flight finish (up to `graceMs`), then close LevelDB
 * (dynalite's server.close does that once the last connection is gone).
 */
export function closeDynalite(server: Server, graceMs = 2_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error?: Error) => (error ? reject(error) : resolve()));
    // Idle keep-alive connections would hold the close forever; busy ones get `graceMs` to answer.
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
  });
}
