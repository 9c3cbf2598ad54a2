#!/usr/bin/env node
// Build step: the shipped doctor profiles (profiles/*.profile.yml) and topologies (netns/*.topo.yml) as JSON
// in dist/profiles/ and dist/netns/, so that a plain `ebpfperf doctor` or `topology up|down` need not load a
// YAML parser (shippedJson in src/util/input.ts uses a JSON copy only while it is newer than its YAML; a file
// edited after the build is read from the YAML again).
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
for (const [dir, suffix] of [['profiles', '.profile.yml'], ['netns', '.topo.yml']]) {
  const out = join(root, 'dist', dir)
  mkdirSync(out, {recursive: true})
  for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith(suffix))) {
    const doc = yaml.load(readFileSync(join(root, dir, f), 'utf8'), {filename: f})
    writeFileSync(join(out, f.replace(/\.yml$/, '.json')), JSON.stringify(doc))
  }
}
