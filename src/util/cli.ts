// How every command reports: stderr lines that are never wrapped or swallowed by --json.
import {Command} from '@oclif/core'
import {errorLine, exitCodeFor} from './errors.js'

export abstract class BaseCommand extends Command {
  /** Progress and notes for humans: always stderr, also under --json (stdout stays one document). */
  protected note(line: string): void {
    process.stderr.write(`${line}\n`)
  }

  /** One unwrapped line `ebpfperf: …` on stderr, then exit with `code` (2 bad input, 3 privilege, …). */
  protected fail(message: string, code: number): never {
    process.stderr.write(`${errorLine(message)}\n`)
    return this.exit(code)
  }

  /** The catch-all of a command: an oclif exit passes through, anything else is one line and its exit code. */
  protected failWith(error: unknown): never {
    if ((error as {oclif?: unknown}).oclif) throw error
    return this.fail((error as Error).message, exitCodeFor(error))
  }

  /**
   * fail() ends with oclif's exit error; under --json oclif would print it as a JSON error document with
   * exit code 1. The line is already on stderr: keep stdout empty and the exit code ours.
   */
  protected async catch(error: Error & {code?: string; oclif?: {exit?: number}}): Promise<unknown> {
    if (error.code === 'EEXIT' && typeof error.oclif?.exit === 'number') {
      process.exitCode = error.oclif.exit
      return undefined
    }
    // oclif's own flag and argument errors are several lines and the whole usage: one line and exit 2
    const line = parseErrorLine(error, this.id)
    if (line) {
      process.stderr.write(`${errorLine(line)}\n`)
      process.exitCode = 2
      return undefined
    }
    // one of our errors raised while flags were resolved (a flag's default checked up front): one line too
    if (typeof (error as {exitCode?: unknown}).exitCode === 'number' && !error.oclif) {
      process.stderr.write(`${errorLine(error.message)}\n`)
      process.exitCode = exitCodeFor(error)
      return undefined
    }
    return super.catch(error)
  }
}

/**
 * One line for an error of oclif's parser (an unknown flag, a missing value, a value out of range, an
 * unexpected argument), naming the input and where to look; undefined for any other error.
 * Exported for tests.
 */
export function parseErrorLine(error: Error & {parse?: unknown}, commandId?: string): string | undefined {
  if (!('parse' in error) && !/^(Parsing --|Flag --\S+ expects a value)/.test(error.message)) return undefined
  const parts = error.message
    .replaceAll(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== 'See more help with --help')
  const text = parts.join(': ').replace(/^Parsing (--[\w-]+):/, '$1:')
  return `${text} (see: ebpfperf ${commandId ? `${commandId.replaceAll(':', ' ')} ` : ''}--help)`
}

