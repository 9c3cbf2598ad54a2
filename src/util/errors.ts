// The exit-code convention, carried by the error classes themselves (so this module imports nothing):
// 2 bad input, 3 not enough privilege, 4 a requirement not met, 128+n a signal, 1 anything else.

/** The user gave something wrong: a file, a flag, a name that collides (exit code 2). */
export class BadInputError extends Error {
  readonly exitCode: number = 2
}

/** Not enough privilege for what was asked (exit code 3). */
export class PrivilegeError extends Error {
  readonly exitCode: number = 3
}

/** The kernel or machine lacks something the command needs (exit code 4), with doctor's finding. */
export class RequirementError extends Error {
  readonly exitCode: number = 4
}

export function exitCodeFor(error: unknown): number {
  const code = (error as {exitCode?: unknown})?.exitCode
  return typeof code === 'number' ? code : 1
}

/** How a command reports an error: one line on stderr, `ebpfperf: …` (its exit code: exitCodeFor). */
export function errorLine(message: string): string {
  return `ebpfperf: ${message}`
}
