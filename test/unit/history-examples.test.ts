// The CI recipes in examples/: the workflow is valid YAML that runs the shell recipe with the settings it
// reads, and the shell recipe is valid POSIX shell that calls only commands ebpfperf has.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import yaml from 'js-yaml'

const root = new URL('../..', import.meta.url).pathname
const recipe = readFileSync(join(root, 'examples/perf-ci.sh'), 'utf8')

describe('CI recipes (examples/)', () => {
  it('the GitHub Actions workflow runs the shell recipe with each setting the recipe reads', () => {
    const wf = yaml.load(readFileSync(join(root, 'examples/github-actions.yml'), 'utf8')) as {permissions: Record<string, string>; jobs: {perf: {env: Record<string, string>; steps: {run?: string}[]}}}
    expect(wf.permissions).to.deep.equal({contents: 'write', issues: 'write'})
    const runs = wf.jobs.perf.steps.map((s) => s.run ?? '').join('\n')
    expect(runs).to.match(/sh \.github\/perf-ci\.sh/).and.match(/ebpfperf profile --out \S+ -- suite micro --quick --test "\$CASE"/)
    const read = [...new Set([...recipe.matchAll(/\$\{(PERF_\w+|EBPFPERF)[:}]/g)].map((m) => m[1]))]
    for (const name of Object.keys(wf.jobs.perf.env).filter((k) => k !== 'GH_TOKEN')) expect(read, name).to.include(name)
    for (const name of Object.keys(wf.jobs.perf.env)) expect(runs, name).to.include(name) // passed through sudo
  })

  it('the shell recipe parses as POSIX shell and uses only existing ebpfperf commands', () => {
    expect(spawnSync('dash', ['-n', join(root, 'examples/perf-ci.sh')]).status).to.equal(0)
    const commands = [...recipe.matchAll(/\$EBPFPERF (\w+(?: (?:push|pull|list))?)/g)].map((m) => m[1].replace(' ', '/'))
    expect(commands).to.include.members(['doctor', 'suite', 'history/push', 'compare'])
    for (const c of commands) expect(readFileSync(join(root, `src/commands/${c}${c === 'suite' ? '/micro' : ''}.ts`), 'utf8')).to.match(/export default class/)
  })
})
