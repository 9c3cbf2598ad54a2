// The self-contained doctor shipped to each host: node itself, bin/run.js (and bin/package.json), doctor's one-file bundle
// (dist/doctor/fast.bundle.cjs, no node_modules needed), the profiles (JSON copies with their YAML, mtimes
// kept so the JSON is taken), package.json and the native addon; one tar made once per run, unpacked on
// each host into a temporary folder that the same remote command removes on exit.
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {projectRoot} from '../util/paths.js'
import {RequirementError} from '../util/errors.js'

export const BUNDLE_FILES = ['bin/run.js', 'bin/package.json', 'package.json', 'dist/doctor/fast.bundle.cjs', 'dist/profiles', 'profiles', 'native/build/Release/ebpfperf_native.node']

/** The tar of the bundle (node is added as ./node); throws a RequirementError when the build is missing. */
export function makeBundle(runDir: string, root = projectRoot()): Buffer {
  const missing = BUNDLE_FILES.filter((f) => !existsSync(join(root, f)))
  if (missing.length > 0) throw new RequirementError(`fleet doctor ships the built tree, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing: run npm run build`)
  const tar = join(runDir, 'bundle.tar')
  execFileSync('tar', ['-cf', tar, '-C', root, ...BUNDLE_FILES, '-C', dirname(process.execPath), basename(process.execPath)], {stdio: 'pipe'})
  return readFileSync(tar)
}

/** The remote command: unpack into a fresh temporary folder, run doctor, remove the folder whatever happens. */
export function remoteDoctorCommand(doctorArgs: string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  return [
    'd=$(mktemp -d /tmp/ebp-fleet.XXXXXX) || exit 97',
    'trap \'rm -rf "$d"\' EXIT',
    'tar -C "$d" -xf - || exit 98',
    `cd / && NO_COLOR=1 "$d/${basename(process.execPath)}" "$d/bin/run.js" doctor --json ${doctorArgs.map(q).join(' ')}`,
  ].join('; ')
}
