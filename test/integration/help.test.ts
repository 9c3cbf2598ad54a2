// What a newcomer reads first: `ebpfperf --help` and each topic's --help describe the topic itself (oclif
// otherwise borrows one of the topic's commands' text), from the built CLI as a user runs it.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const squash = (s: string) => s.replace(/\s+/g, ' ').trim()

function help(args: string[]): string {
  const r = spawnSync(process.execPath, [bin, ...args, '--help'], {env: {...process.env, NO_COLOR: '1', COLUMNS: '400'}, encoding: 'utf8', timeout: 60_000})
  expect(r.status, `${args.join(' ')} --help: ${r.stderr}`).to.equal(0)
  return r.stdout
}

/** The lines of one upper-case section (TOPICS, COMMANDS) as name → text, wrapped lines joined. */
export function section(text: string, title: string): Map<string, string> {
  const out = new Map<string, string>()
  const lines = text.split('\n')
  let i = lines.indexOf(title) + 1
  if (i === 0) return out
  let last = ''
  for (; i < lines.length && lines[i].startsWith(' '); i++) {
    const m = /^ {2}(\S.*?) {2,}(.*)$/.exec(lines[i])
    if (m) out.set((last = m[1]), m[2])
    else if (last) out.set(last, `${out.get(last)} ${lines[i].trim()}`)
  }
  return out
}

const topicDirs = readdirSync(join(root, 'src/commands')).filter((n) => statSync(join(root, 'src/commands', n)).isDirectory())
const described: Record<string, {description?: string}> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).oclif.topics ?? {}
/** Each command's summary, the text oclif would borrow for an undescribed topic. */
const summaries = topicDirs.flatMap((t) =>
  readdirSync(join(root, 'src/commands', t)).map((f) => /static summary = (['"`])(.*?)\1\n/.exec(readFileSync(join(root, 'src/commands', t, f), 'utf8'))?.[2] ?? ''),
)

describe('help describes each topic (built CLI)', function () {
  it('every folder of commands has a topic description of its own', function () {
    expect(topicDirs).to.include.members(['suite', 'topology', 'vm'])
    for (const t of topicDirs) {
      const d = described[t]?.description
      expect(d, `package.json oclif.topics.${t}.description`).to.be.a('string').and.not.be.empty
      expect(summaries.map(squash), `${t}'s description is a command's summary`).to.not.include(squash(d!))
    }
  })

  it('ebpfperf --help lists each topic with its own description', function () {
    const topics = section(help([]), 'TOPICS')
    expect([...topics.keys()].sort()).to.deep.equal([...topicDirs].sort())
    for (const t of topicDirs) expect(squash(topics.get(t)!), t).to.equal(squash(described[t].description!))
  })

  for (const t of topicDirs) {
    it(`ebpfperf ${t} --help opens with the topic's description and lists its commands`, function () {
      const text = help([t])
      expect(squash(text.split('\n\n')[0])).to.equal(squash(described[t].description!))
      const commands = readdirSync(join(root, 'src/commands', t)).map((f) => `${t} ${f.replace(/\.ts$/, '')}`)
      expect([...section(text, 'COMMANDS').keys()].sort()).to.deep.equal(commands.sort())
    })
  }
})
