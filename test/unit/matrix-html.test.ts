// matrix --html: the page built from a fixture matrix (no kernel): a column per kernel, differing rows first,
// reasons escaped (a report may come from another host), a rejected program's verifier lines per kernel.
import {expect} from 'chai'
import {buildMatrix} from '../../src/matrix/table.js'
import {renderMatrixHtml} from '../../src/matrix/html.js'
import type {DoctorReport} from '../../src/doctor/index.js'

const report = (release: string, fentry: 'pass' | 'fail', log?: string[]): DoctorReport =>
  ({
    schema: 'ebpfperf/doctor/v1',
    kernel: {release},
    findings: [
      {profile: 'tracing', id: 'tr-fentry', title: 'fentry', required: true, status: fentry, summary: fentry === 'pass' ? 'ok' : 'EPERM <script>alert("x")</script> & more', evidence: [], fixes: [], cases: [], group: 'g'},
      {profile: 'tracing', id: 'tr-raw', title: 'raw_tp', required: true, status: 'pass', summary: 'ok', evidence: [], fixes: [], cases: [], group: 'g'},
    ],
    verdicts: [],
    objects: [{name: 't.bpf.o', programs: [{name: 'bad', status: log ? 'fail' : 'pass', because: log ? 'the verifier rejected it' : undefined, live: {loaded: !log, log}}]}],
  }) as unknown as DoctorReport

describe('matrix --html (fixture matrix)', () => {
  const verifier = ['0: (85) call bpf_map_lookup_elem#1', "R0 invalid mem access 'map_value_or_null'"]
  const m = buildMatrix([
    {label: 'host', report: report('6.18.0', 'fail', verifier)},
    {label: 'cloud-6.1', report: report('6.1.0-40-cloud-amd64', 'pass', verifier)},
    {label: 'node3', error: 'unreachable: ssh: connect to host 198.18.19.10 port 22: Connection refused'},
  ])
  const html = renderMatrixHtml(m, 'ebpfperf matrix --kernel host')

  it('has one column per kernel, with its release, and an unjudged column that says why', () => {
    expect([...html.matchAll(/<th data-column="([^"]+)">/g)].map((x) => x[1])).to.deep.equal(['host', 'cloud-6.1', 'node3'])
    expect(html).to.include('6.1.0-40-cloud-amd64')
    expect(html).to.match(/<td class="v unjudged" title="unreachable: ssh: connect to host 198\.18\.19\.10[^"]*">unreachable<\/td>/)
    expect(html).to.include('node3: not judged: unreachable')
  })

  it('lists the differing rows first, then the rows that are the same everywhere', () => {
    const rows = [...html.matchAll(/<tr data-key="([^"]+)" data-differs="(true|false)">/g)].map((x) => [x[1], x[2]])
    expect(rows[0]).to.deep.equal(['tracing/tr-fentry', 'true'])
    expect(rows.slice(1).every(([, d]) => d === 'false')).to.equal(true)
    expect(rows.map(([k]) => k)).to.include.members(['program:t.bpf.o/bad', 'tracing/tr-raw'])
    expect(html.indexOf('differences (1)')).to.be.lessThan(html.indexOf('the same everywhere (2)'))
  })

  it('colours cells by verdict and escapes reasons in the title and the details', () => {
    const fentry = html.match(/<tr data-key="tracing\/tr-fentry"[^]*?<\/tr>/)![0]
    expect(fentry).to.match(/<td class="v bad" data-status="fail" title="EPERM &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; more"><details><summary>FAIL<\/summary>/)
    expect(fentry).to.match(/<td class="v good" data-status="pass">pass<\/td>/)
    expect(html).to.not.include('<script')
    expect(html).to.not.match(/<link|src=|https?:\/\//) // nothing fetched: the page is whole offline
  })

  it("shows a rejected program's verifier lines once for the kernels that said the same", () => {
    expect(html).to.include('<h3>verifier rejected t.bpf.o: bad</h3>')
    expect(html).to.include('<p>on host, cloud-6.1:</p>')
    expect(html).to.include('R0 invalid mem access &#39;map_value_or_null&#39;</pre>')
  })
})
