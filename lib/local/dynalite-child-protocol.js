/* global setTimeout */
/**
 * What the stack (lib/local/dynalite-server.ts) and the dynalite process it forks
 * (lib/local/dynalite-child.js) share; types in dynalite-child-protocol.d.ts.
 *
 * Plain JavaScript, like the child, so that the child process loads no TypeScript: Node's type stripping
 * costs about 17 MB of resident memory per process, and the child's memory counts in the stack's total.
 */

/** Tables are usable at once (dynalite's defaults keep them CREATING for half a second). */
export const DYNALITE_TIMINGS = Object.freeze({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

/**
 * LevelDB reads its table files through mmap, and every table it holds open stays mapped; the pages it
 * touched count in the process's resident memory until the table is closed. With LevelDB's default of
 * 1000 open files a store of a few hundred MB could become resident in full while it compacts after a
 * bulk load (the bench once saw 775 MB of mapped table files at 100,000 plans, and 150 MB typically).
 * LevelDB keeps max_open_files - 10 tables open (and raises anything under 74 to 74), so 74 bounds the
 * mapped tables to 64 × 2 MB. Measured: README, Benchmarks.
 */
export const LEVELDB_OPEN_OPTIONS = Object.freeze({ maxOpenFiles: 74 });

/**
 * Stop accepting connections, let the requests in flight finish (up to `graceMs`), then close LevelDB
 * (dynalite's server.close does that once the last connection is gone).
 * @param {import('node:http').Server} server
 * @param {number} [graceMs]
 * @returns {Promise<void>}
 */
export function closeDynalite(server, graceMs = 2_000) {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Idle keep-alive connections would hold the close forever; busy ones get `graceMs` to answer.
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
  });
}
