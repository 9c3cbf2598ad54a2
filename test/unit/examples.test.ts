// Every command's help examples parse as written: each example is split as a shell would, its command words
// must name the command it documents, and the rest goes through the command's own flags and args (oclif's
// parser, as `run` would call it) without running anything.
import {expect} from 'chai'
import {Flags, Parser, type Command} from '@oclif/core'
import {readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {pathToFileURL} from 'node:url'

const commandsDir = new URL('../../src/commands/', import.meta.url).pathname

/** src/commands/suite/micro.ts → 'suite micro'. */
function commandFiles(dir = commandsDir): {id: string; file: string}[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return commandFiles(path)
    if (!name.endsWith('.ts') || name.endsWith('.d.ts')) return []
    return [{id: relative(commandsDir, path).replace(/\.ts$/, '').split('/').join(' '), file: path}]
  })
}

/** Words of a one-line shell command: quotes kept together, a redirection (> FILE) and what follows it dropped. */
export function shellWords(line: string): string[] {
  const words: string[] = []
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const w = m[1] ?? m[2] ?? m[3]
    if (m[3] !== undefined && /^[0-9]?>/.test(m[3])) break
    words.push(w)
  }
  return words
}

async function parseExample(C: Command.Class, argv: string[]): Promise<void> {
  const flags = {...C.baseFlags, ...C.flags, ...(C.enableJsonFlag ? {json: Flags.boolean()} : {})}
  await Parser.parse(argv, {flags, args: C.args ?? {}, strict: C.strict ?? true, context: undefined as never})
}

describe('help examples run as written (argument parsing)', function () {
  it('splits an example as a shell would', function () {
    expect(shellWords(`ebpfperf a --x 'b c' "d" > out.json`)).to.deep.equal(['ebpfperf', 'a', '--x', 'b c', 'd'])
  })

  const files = commandFiles()
  it('finds the commands', function () {
    expect(files.map((f) => f.id)).to.include.members(['doctor', 'suite tracing', 'topology up', 'vm run'])
  })

  for (const {id, file} of files) {
    it(`${id}: every example names it and parses with its flags`, async function () {
      const C = (await import(pathToFileURL(file).href)).default as Command.Class
      const examples = (C.examples ?? []).map((e) => (typeof e === 'string' ? e : e.command))
      expect(examples, `${id} has no examples`).to.not.be.empty
      for (const example of examples) {
        const words = shellWords(example.replace('<%= config.bin %>', 'ebpfperf'))
        const idWords = id.split(' ')
        expect(words.slice(0, idWords.length + 1), example).to.deep.equal(['ebpfperf', ...idWords])
        try {
          await parseExample(C, words.slice(idWords.length + 1))
        } catch (error) {
          expect.fail(`${example}: ${(error as Error).message}`)
        }
      }
    })
  }

  it('a broken example is caught', async function () {
    const C = (await import(pathToFileURL(join(commandsDir, 'topology/up.ts')).href)).default as Command.Class
    let failed = false
    await parseExample(C, ['--no-such-flag']).catch(() => (failed = true))
    expect(failed).to.equal(true)
  })
})
