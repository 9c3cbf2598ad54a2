#!/usr/bin/env node
// Build step: the shipped doctor profiles (profiles/*.profile.yml) as JSON in dist/profiles/, so that a
// plain `ebpfperf doctor` need not load a YAML parser (src/doctor/profile.ts uses a JSON copy only while
// it is newer than its YAML; a profile edited after the build is read from the YAML again).
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist/profiles')
mkdirSync(out, {recursive: true})
for (const f of readdirSync(join(root, 'profiles')).filter((x) => x.endsWith('.profile.yml'))) {
  const doc = yaml.load(readFileSync(join(root, 'profiles', f), 'utf8'), {filename: f})
  writeFileSync(join(out, f.replace(/\.yml$/, '.json')), JSON.stringify(doc))
}
