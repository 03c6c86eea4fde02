#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startEmbeddedStack } from '../lib/local/embedded-stack.ts';
import { LocalTokens } from '../lib/local/tokens.ts';
import { ROLES, type Role } from '../lib/api/routes.ts';
import { DirectoryError } from '../lib/directory/load.ts';
import { DataDirectoryInUse, DataDirectoryTooOld, DataDirectoryUnusable } from '../lib/local/dynalite-server.ts';
import { ConfigurationError, readMetricsSettings } from '../lib/config.ts';
import { SIMULATE_USAGE, simulateCommand, SimulationSetupError, UsageError } from '../lib/simulate/cli.ts';
import { reexecWithStackSettings } from '../lib/local/process-settings.ts';
import { DamagedSecret, hasLocalSecret } from '../lib/local/secrets.ts';
import { DEFAULT_METRICS_CONFIG } from '../lib/domain/metrics/query.ts';

/** Each command's usage, answered to `wraparound <command> --help`; all of them to `wraparound --help`. */
const COMMAND_USAGE = {
  start: `  wraparound start [--port 3000] [--host 127.0.0.1] [--data-dir ./.data] [--in-memory] [--providers FILE]
                   [--sweep-seconds 60] [--clock system|simulated] [--retention-days N (default: six calendar years)]
      Run the embedded stack (API, workflow, store) on one machine. Ctrl-C stops it; data stays in --data-dir.
      With --clock simulated, time moves only with POST /_local/clock/advance {"days": N}. GET /health is 503
      if the store has stopped or does not answer. The commissioner figures read METRICS_SUPPRESSION_THRESHOLD,
      METRICS_ROUND_COUNTS_TO and METRICS_MAX_PERIOD_MONTHS from the environment (defaults ${DEFAULT_METRICS_CONFIG.suppressionThreshold}, ${DEFAULT_METRICS_CONFIG.roundCountsTo}, ${DEFAULT_METRICS_CONFIG.maxPeriodMonths}).`,
  token: `  wraparound token --role coordinator|team-lead|provider|commissioner [--provider ID] [--name "Full Name"]
                   [--data-dir ./.data]
      Print a bearer token the stack running on that data dir accepts. --name is the person's name the
      audit log shows beside what they did (without it the log says no name was given).`,
  simulate: SIMULATE_USAGE,
} as const;
type CommandWithUsage = keyof typeof COMMAND_USAGE;

const USAGE = `Usage:\n${Object.values(COMMAND_USAGE).join('\n')}\n  wraparound <command> --help
      That command's options.`;

/** Errors whose message already says plainly what is wrong and that nothing was changed: printed as they are. */
function isRefusal(error: unknown): error is Error {
  return (
    error instanceof DirectoryError ||
    error instanceof DataDirectoryTooOld ||
    error instanceof DataDirectoryInUse ||
    error instanceof DataDirectoryUnusable ||
    error instanceof DamagedSecret ||
    error instanceof ConfigurationError
  );
}

/** One plain line on what is wrong and where the usage is, exit code 2 (a usage error). */
function fail(message: string, command?: CommandWithUsage): never {
  console.error(`wraparound${command ? ` ${command}` : ''}: ${message} (wraparound ${command ? `${command} ` : ''}--help shows the options)`);
  process.exit(2);
}

/** node:util parseArgs' own refusals (an unknown option, an option missing its value…): their message is already one plain line. */
function isArgumentError(error: unknown): error is Error {
  return typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string' && (error as NodeJS.ErrnoException).code!.startsWith('ERR_PARSE_ARGS_');
}

/** A file-system refusal naming its path (ENOSPC, EACCES, EROFS, ENOTDIR…). */
function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  const e = error as NodeJS.ErrnoException | undefined;
  return typeof e?.path === 'string' && typeof e.code === 'string' && /^E(NOSPC|ACCES|PERM|ROFS|NOTDIR|ISDIR|EXIST|DQUOT|NOENT)$/.test(e.code);
}

const asksForHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

async function start(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '3000' },
      'data-dir': { type: 'string', default: './.data' },
      'in-memory': { type: 'boolean', default: false },
      providers: { type: 'string' },
      'sweep-seconds': { type: 'string', default: '60' },
      host: { type: 'string', default: '127.0.0.1' },
      clock: { type: 'string', default: 'system' },
      'retention-days': { type: 'string' },
    },
  });
  if (values.clock !== 'system' && values.clock !== 'simulated') fail(`--clock must be system or simulated, not "${values.clock}"`, 'start');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, not "${values.port}"`, 'start');
  const sweepSeconds = Number(values['sweep-seconds']);
  if (!Number.isFinite(sweepSeconds) || sweepSeconds < 0) fail(`--sweep-seconds must be a number of seconds, not "${values['sweep-seconds']}"`, 'start');
  // Unset: six calendar years after a plan ends (lib/domain/calendar.ts DEFAULT_RETENTION).
  const retentionDays = values['retention-days'] === undefined ? undefined : Number(values['retention-days']);
  if (retentionDays !== undefined && (!Number.isInteger(retentionDays) || retentionDays < 1)) fail(`--retention-days must be a whole number of days, not "${values['retention-days']}"`, 'start');
  // The same METRICS_* settings as the Lambda's, checked before anything starts (a bad one names itself).
  let metrics;
  try {
    metrics = readMetricsSettings(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) fail(error.message, 'start');
    throw error;
  }
  const started = Date.now();
  let stack;
  try {
    stack = await startEmbeddedStack({
      metrics,
      port,
      host: values.host,
      inMemory: values['in-memory'],
      dataDir: values['data-dir'],
      ...(values.providers ? { providersFile: values.providers } : {}),
      sweepIntervalMs: sweepSeconds * 1000,
      clockMode: values.clock as 'system' | 'simulated',
      ...(retentionDays !== undefined ? { retentionDays } : {}),
      // dynalite in its own process even for --in-memory: its CPU goes to the second core, and it gets
      // MALLOC_ARENA_MAX=2 in its environment (lib/local/dynalite-server.ts).
      storeProcess: 'child',
    });
  } catch (error) {
    if (isRefusal(error)) fail(error.message, 'start');
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') fail(`port ${port} is in use: pick another with --port`, 'start');
    // The data directory's own files (its secrets, the simulated clock) that could not be written: a full
    // disk or a read-only directory is the operator's to put right, not a stack trace.
    if (isFileSystemError(error)) fail(`The data directory ${values['data-dir']} cannot be used: ${error.message}. Nothing was started.`, 'start');
    throw error;
  }
  const lines = [
    `Wraparound embedded stack on ${stack.url} (started in ${Date.now() - started} ms)`,
    `  data: ${values['in-memory'] ? 'in memory (gone when stopped)' : values['data-dir']}`,
    `  clock: ${stack.clock.kind}${stack.clock.kind === 'simulated' ? ` at ${stack.clock.now()} (move it: POST /_local/clock/advance {"days": 30})` : ''}`,
    `  directory: ${stack.directory.name} (${stack.directory.organizations.length} organisations, ${stack.directory.services.length} services)`,
    `  try: curl ${stack.url}/health`,
    '',
    'Demo users (export one as TOKEN and send: -H "Authorization: Bearer $TOKEN"):',
    ...stack.demoUsers.map((u) => `  ${u.role}${u.providerId ? ` (${u.providerId})` : ''}:\n    ${u.token}`),
  ];
  // Listening for Ctrl-C before the banner says the stack is up, so a stop right then still stops it cleanly.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await stack.stop();
    if (stack.store.stoppedUnexpectedly())
      console.log(
        `stopped. The store had stopped before (see above): what was sent after that was refused, not saved${values['in-memory'] ? '; the plans were in memory only and are gone.' : `; what was saved before is kept in ${values['data-dir']}.`}`,
      );
    else console.log(values['in-memory'] ? 'stopped; the plans were in memory only and are gone.' : `stopped; every plan is kept in ${values['data-dir']}.`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  console.log(lines.join('\n'));
}

async function token(args: string[]) {
  const { values } = parseArgs({ args, options: { role: { type: 'string' }, provider: { type: 'string' }, 'data-dir': { type: 'string', default: './.data' }, name: { type: 'string' } } });
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`, 'token');
  if (role === 'provider' && !values.provider) fail('--provider ID is needed for a provider token', 'token');
  if (role !== 'provider' && values.provider) fail('--provider is only for --role provider', 'token');
  const dataDir = values['data-dir'];
  // A token for a directory no stack has used (a mistyped --data-dir, another working directory) is
  // signed with a new secret, so the stack that is running turns it away (401): say so.
  const fresh = !(await hasLocalSecret(dataDir, 'jwt-secret'));
  let tokens;
  try {
    tokens = await LocalTokens.forDataDir(dataDir);
  } catch (error) {
    if (error instanceof DamagedSecret || isFileSystemError(error)) fail(error.message, 'token');
    throw error;
  }
  if (fresh)
    console.error(
      `wraparound token: no stack has run on the data directory ${dataDir} (it had no jwt-secret; one was made): only a stack started with --data-dir ${dataDir} accepts this token. Pass the --data-dir the running stack uses.`,
    );
  console.log(await tokens.issue({ role, ...(values.provider ? { providerId: values.provider } : {}), ...(values.name ? { name: values.name } : {}) }));
}

const [command, ...rest] = process.argv.slice(2);

if (command && Object.hasOwn(COMMAND_USAGE, command) && asksForHelp(rest)) {
  console.log(`Usage:\n${COMMAND_USAGE[command as CommandWithUsage]}`);
  process.exit(0);
}
// The stack's process needs settings that only take effect when a process starts (MALLOC_ARENA_MAX, a
// V8 heap limit: lib/local/process-settings.ts), so `start` replaces this process once with one that has
// them (same pid, same arguments).
if (command === 'start') reexecWithStackSettings();
try {
  switch (command) {
    case 'start':
      await start(rest);
      break;
    case 'token':
      await token(rest);
      break;
    case 'simulate':
      try {
        process.exitCode = await simulateCommand(rest);
      } catch (error) {
        if (error instanceof UsageError) fail(error.message, 'simulate');
        if (error instanceof SimulationSetupError) {
          console.error(`wraparound simulate: ${error.message}`);
          process.exit(2);
        }
        if (isRefusal(error)) fail(error.message, 'simulate');
        throw error;
      }
      break;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      break;
    default:
      fail(`unknown command "${command}"; the commands are ${Object.keys(COMMAND_USAGE).join(', ')}`);
  }
} catch (error) {
  if (isArgumentError(error)) fail(error.message, command as CommandWithUsage);
  throw error;
}
