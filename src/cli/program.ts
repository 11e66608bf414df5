// The program: parses arguments, runs a command, and is the only place that turns
// errors into exit codes and messages a person can act on.
import { Command, CommanderError } from 'commander';
import { ExitCode, V2oError } from '../errors.js';
import { commands } from './commands/index.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    ok
  1    failed (the run is journaled; see \`v2o status <run>\`, then \`v2o resume <run>\`)
  2    bad input or a blocked plan (nothing was changed)
  3    waiting for approval (\`v2o approve <run>\`, then \`v2o resume <run>\`)
       or until a time (\`v2o resume <run> --wait\`)
  130  interrupted (Ctrl-C / SIGTERM; \`v2o resume <run>\` continues)`;

function buildProgram(): Command {
  const program = new Command('v2o')
    .description('Migrate Windows virtual machines from VMware vSphere to OpenStack, resumably.')
    .option('--state-dir <dir>', 'journal and run logs (default: $V2O_STATE_DIR or $XDG_STATE_HOME/v2o)')
    .option(
      '--journal <url|path>',
      'the journal: postgres://user@host/db?sslmode=verify-full&sslrootcert=ca.pem for a fleet, or a SQLite file (default: $V2O_JOURNAL or <state-dir>/journal.db)',
    )
    .option('--debug', 'print stack traces and debug logs')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError()
    .exitOverride();
  for (const c of commands) c.register(program);
  return program;
}

export function formatError(err: unknown, debug: boolean): { message: string; exitCode: number } {
  if (err instanceof V2oError) {
    let message = `error: ${err.message}`;
    if (err.hint) message += `\n  fix: ${err.hint}`;
    if (debug && err.stack) message += `\n${err.stack}`;
    return { message, exitCode: err.exitCode };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    message: `error: ${e.message}${debug && e.stack ? `\n${e.stack}` : '\n  (run again with --debug for details)'}`,
    exitCode: ExitCode.failed,
  };
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Commands report their code through process.exitCode; start clean so main() can be called
  // more than once (tests), and leave it to the caller (main.ts) to set the final one.
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    const { message, exitCode } = formatError(err, argv.includes('--debug'));
    process.stderr.write(`${message}\n`);
    return exitCode;
  } finally {
    process.exitCode = undefined;
  }
}
