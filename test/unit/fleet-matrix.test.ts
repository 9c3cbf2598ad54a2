// Inventories (INI, YAML), ssh failure wording, the remote command's clean-up, and the matrix table.
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseIniInventory, readInventory} from '../../src/fleet/inventory.js'
import {classifySshFailure} from '../../src/fleet/index.js'
import {remoteDoctorCommand} from '../../src/fleet/bundle.js'
import {sshArgs} from '../../src/fleet/ssh.js'
import {buildMatrix, renderMatrix} from '../../src/matrix/table.js'
import type {DoctorReport} from '../../src/doctor/index.js'
import {BadInputError} from '../../src/util/errors.js'
import {tempDir} from '../support/tmp.js'

const report = (release: string, status: 'pass' | 'fail', verdict: 'runs' | 'cannot-run'): DoctorReport =>
  ({
    schema: 'ebpfperf/doctor/v1',
    kernel: {release},
    findings: [
      {profile: 'tracing', id: 'tr-fentry', title: 'fentry', required: true, status, summary: status === 'pass' ? 'ok' : 'EPERM at load', evidence: [], fixes: [], cases: [], group: 'g'},
      {profile: 'tracing', id: 'tr-raw', title: 'raw_tp', required: true, status: 'pass', summary: 'ok', evidence: [], fixes: [], cases: [], group: 'g'},
    ],
    verdicts: [{profile: 'tracing', suite: 'tracing', verdict, text: verdict, skipped: [], blockers: []}],
  }) as unknown as DoctorReport

describe('fleet doctor and matrix (no network)', () => {
  it('reads INI inventories with group vars, host vars overriding them', () => {
    const hosts = parseIniInventory('# comment\n[web]\nw1 ansible_host=198.18.0.1\nw2 ansible_host=198.18.0.2 ansible_port=2222 ansible_user=admin\n\n[web:vars]\nansible_user=root\nansible_ssh_private_key_file=/k\n', 'x')
    expect(hosts).to.deep.equal([
      {name: 'w1', host: '198.18.0.1', port: 22, user: 'root', key: '/k', groups: ['web']},
      {name: 'w2', host: '198.18.0.2', port: 2222, user: 'admin', key: '/k', groups: ['web']},
    ])
  })

  it('reads YAML inventories (children inherit vars) and refuses bad ports and empty files', () => {
    const dir = tempDir('inv')
    writeFileSync(join(dir, 'h.yml'), 'all:\n  vars: {ansible_user: root}\n  children:\n    db:\n      hosts:\n        d1: {ansible_host: 198.18.0.9}\n')
    expect(readInventory(join(dir, 'h.yml'))).to.deep.equal([{name: 'd1', host: '198.18.0.9', port: 22, user: 'root', key: undefined, groups: ['db']}])
    writeFileSync(join(dir, 'bad.ini'), '[x]\nh ansible_port=99999\n')
    expect(() => readInventory(join(dir, 'bad.ini'))).to.throw(BadInputError, /not a port number/)
    writeFileSync(join(dir, 'empty.ini'), '# nothing\n')
    expect(() => readInventory(join(dir, 'empty.ini'))).to.throw(BadInputError, /no hosts/)
  })

  it('ssh runs in batch mode over one master connection with a run-local known_hosts', () => {
    const a = sshArgs({name: 'n', host: '198.18.0.1', port: 2222, user: 'root', key: '/k', groups: []}, '/tmp/run').join(' ')
    for (const o of ['BatchMode=yes', 'ControlMaster=auto', 'ControlPath=/tmp/run/cm-%C', 'UserKnownHostsFile=/tmp/run/known_hosts', '-i /k', '-p 2222', '-l root']) expect(a).to.include(o)
    expect(classifySshFailure('ssh: connect to host 198.18.0.1 port 22: Connection refused\n')).to.deep.equal({outcome: 'unreachable', why: 'ssh: connect to host 198.18.0.1 port 22: Connection refused'})
    expect(classifySshFailure('root@h: Permission denied (publickey).\n').outcome).to.equal('refused')
  })

  it('the remote command removes its folder on exit and quotes the arguments', () => {
    const c = remoteDoctorCommand(['--profile', "it's"])
    expect(c).to.match(/mktemp -d \/tmp\/ebp-fleet\.XXXXXX/)
    expect(c).to.match(/trap 'rm -rf "\$d"' EXIT/)
    expect(c).to.include(`'it'\\''s'`)
  })

  it('matrix: differing rows first, unjudged columns say why, exit 1 on a failure anywhere, 2 with nothing judged', () => {
    const m = buildMatrix([
      {label: 'host', report: report('6.18', 'fail', 'cannot-run')},
      {label: 'guest', report: report('6.12', 'pass', 'runs')},
      {label: 'node3', error: 'unreachable: ssh: connect to host 198.18.19.10 port 22: Connection refused'},
    ])
    expect(m.rows.slice(0, 2).map((r) => r.key)).to.deep.equal(['verdict:tracing', 'tracing/tr-fentry'])
    expect(m.rows.map((r) => r.differs)).to.deep.equal([true, true, false])
    expect(m.rows[0].cells.host).to.deep.equal({status: 'cannot-run', reason: 'cannot-run'})
    expect(m.exitCode).to.equal(1)
    const text = renderMatrix(m, {reasons: true})
    expect(text).to.match(/tracing: tr-fentry fentry\s+FAIL\s+pass\s+UNREACHABLE/)
    expect(text).to.match(/host: EPERM at load/)
    expect(text).to.match(/node3: not judged: unreachable/)
    expect(buildMatrix([{label: 'a', report: report('1', 'pass', 'runs')}]).exitCode).to.equal(0)
    expect(buildMatrix([{label: 'a', error: 'unreadable: x'}]).exitCode).to.equal(2)
  })
})
