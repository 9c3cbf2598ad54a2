// Result documents, profiles and the report page against hostile content: every malformed field is one
// line naming the file and its JSON path (exit code 2), and nothing in a result can leave a <script>.
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {loadResult} from '../../src/results/store.js'
import {resultProblem} from '../../src/results/validate.js'
import {esc, renderReport, scriptJson} from '../../src/results/report.js'
import {loadProfile, parseProfile} from '../../src/doctor/profile.js'
import {validResult} from '../support/hostile.js'
import {tempDir} from '../support/tmp.js'

const dir = tempDir('hostile-results')
let n = 0
const put = (text: string) => {
  const p = join(dir, `r${n++}.json`)
  writeFileSync(p, text)
  return p
}
const refusal = (text: string): Error & {exitCode?: number} => {
  const p = put(text)
  try {
    loadResult(p)
  } catch (error) {
    const e = error as Error & {exitCode?: number}
    expect(e.exitCode, e.message).to.equal(2)
    expect(e.message.startsWith(`${p}: `), e.message).to.equal(true)
    expect(e.message).to.not.include('\n')
    return e
  }
  throw new Error(`accepted: ${text.slice(0, 200)}`)
}
/** A valid result with one edit applied to its parsed form, as JSON text. */
const edited = (edit: (doc: any) => void, raw?: (json: string) => string) => {
  const doc = validResult()
  edit(doc)
  const json = JSON.stringify(doc)
  return raw ? raw(json) : json
}

describe('hostile results: one validator for every result document', () => {
  const cases: [string, string, RegExp][] = [
    ['a null case', edited((d) => (d.cases = [null])), /\$\.cases\[0\]: expected an object, got null/],
    ['a case without samples', edited((d) => delete d.cases[0].samples), /\$\.cases\[0\]\.samples: expected a list, got nothing/],
    ['samples as a string', edited((d) => (d.cases[1].samples = '1,2,3')), /\$\.cases\[1\]\.samples: expected a list, got "1,2,3"/],
    ['a null sample (NaN once parsed by a careless writer)', edited((d) => (d.cases[0].samples[2] = null)), /\$\.cases\[0\]\.samples\[2\]: expected a finite number, got null/],
    ['an Infinity sample (1e999)', edited(() => {}, (j) => j.replace(/"samples":\[[\d.e+-]+/, '"samples":[1e999')), /\$\.cases\[0\]\.samples\[0\]: expected a finite number, got null/],
    ['a sample as a string', edited((d) => (d.cases[0].samples[0] = '10')), /samples\[0\]: expected a finite number, got "10"/],
    ['an unknown status', edited((d) => (d.cases[0].status = 'great')), /\$\.cases\[0\]\.status: expected "ok", "failed", "skipped"/],
    ['higherIsBetter as a string', edited((d) => (d.cases[0].higherIsBetter = 'yes')), /higherIsBetter: expected true or false/],
    ['a metric as a number', edited((d) => (d.cases[0].metric = 5)), /\$\.cases\[0\]\.metric: expected a string, got 5/],
    ['params as a list', edited((d) => (d.cases[0].params = [1])), /\$\.cases\[0\]\.params: expected an object/],
    ['a parameter as an object', edited((d) => (d.cases[0].params = {cpu: {x: 1}})), /params\.cpu: expected a string, finite number or true\/false/],
    ['stats with a string mean', edited((d) => (d.cases[0].stats.mean = 'fast')), /stats\.mean: expected a finite number/],
    ['cases as an object', edited((d) => (d.cases = {a: 1})), /\$\.cases: expected a list, got an object/],
    ['no environment', edited((d) => delete d.environment), /\$\.environment: expected an object, got nothing/],
    ['an environment without a kernel', edited((d) => (d.environment.kernel = null)), /\$\.environment\.kernel: expected an object/],
    ['complete as a string', edited((d) => (d.complete = 'true')), /\$\.complete: expected true or false/],
    ['a suite as a number', edited((d) => (d.suite = 3)), /\$\.suite: expected a string, got 3/],
    ['a vm block with a bad flag', edited((d) => (d.vm = {emulated: 'no', accel: 'tcg'})), /\$\.vm\.emulated: expected true or false/],
    ['the document a list', '[1,2]', /not an ebpfperf result/],
    ['JSON null', 'null', /not an ebpfperf result/],
  ]
  for (const [what, text, reason] of cases) it(`${what}: refused naming the field`, () => expect(refusal(text).message).to.match(reason))

  it('a valid document passes, and so does a one-sample case (its CI bounds are null in JSON)', () => {
    expect(loadResult(put(JSON.stringify(validResult()))).cases).to.have.length(2)
    const one = validResult()
    one.cases[0].samples = [5]
    one.cases[0].stats = {n: 1, mean: 5, sd: 0, min: 5, max: 5, median: 5, ci95: [-Infinity, Infinity], halfWidth: Infinity, cv: 0}
    expect(resultProblem(JSON.parse(JSON.stringify(one)))).to.equal(undefined)
  })
})

describe('hostile report content: shown as text, never run', () => {
  const payload = '</script><script>window.__pwned=1</script><!--'
  const hostile = () => {
    const r = validResult()
    r.cases[0].metric = payload
    r.cases[0].params = {mode: payload, rate: 1}
    r.cases[1].id = `<img src=x onerror=window.__pwned=2>`
    r.suite = `micro${payload}`
    return r
  }

  it('scriptJson escapes < > & U+2028 U+2029 and parses back to the same value', () => {
    const v = {a: payload, b: 'x\u2028y\u2029z & <!-- -->'}
    const s = scriptJson(v)
    expect(s).to.not.match(/[<>&\u2028\u2029]/)
    expect(JSON.parse(s)).to.deep.equal(v)
  })

  it('the page has exactly the two script elements of its own, and the payload only as escaped text', () => {
    const html = renderReport([hostile()])
    expect(html.match(/<script>/g)).to.have.length(2)
    expect(html.match(/<\/script>/gi)).to.have.length(2)
    expect(html).to.not.include('window.__pwned=1</script>')
    expect(html).to.not.include('<img src=x')
    expect(html).to.include(esc(payload))
  })

  it('esc covers quotes too (attributes)', () => expect(esc(`"'<>&`)).to.equal('&quot;&#39;&lt;&gt;&amp;'))
})

describe('hostile profiles: unknown keys refused at every level', () => {
  const base = {schema: 'ebpfperf/profile/v1', name: 'x', checks: [{id: 'c', kconfig: ['BPF']}]}
  it('an unknown top-level key is refused like one inside a check', () => {
    expect(() => parseProfile({...base, chekcs: []}, 'p.yml')).to.throw(/^p\.yml: chekcs: unknown key \(known: schema, name, title, suite, checks\)$/)
    expect(() => parseProfile({...base, checks: [{id: 'c', kconfig: ['BPF'], probes: []}]}, 'p.yml')).to.throw(/checks\[0\]\.probes: unknown key/)
  })
  it('a title or suite of the wrong type is refused', () => {
    expect(() => parseProfile({...base, title: 5}, 'p.yml')).to.throw(/title: expected a string/)
  })
  it('a profile file with an unknown top-level key: exit code 2, one line', () => {
    const p = join(dir, 'extra.profile.yml')
    writeFileSync(p, 'schema: ebpfperf/profile/v1\nname: x\nrequirements: []\nchecks:\n  - {id: c, kconfig: [BPF]}\n')
    expect(() => loadProfile(p)).to.throw(/extra\.profile\.yml: requirements: unknown key/).with.property('exitCode', 2)
  })
})
