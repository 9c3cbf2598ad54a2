#!/usr/bin/env -S node --import tsx
process.env.UV_THREADPOOL_SIZE ??= '16'
const {execute} = await import('@oclif/core')
const {fileURLToPath} = await import('node:url')

// no user-installed oclif plugins, as in bin/run.js
await execute({development: true, loadOptions: {root: fileURLToPath(new URL('.', import.meta.url)), userPlugins: false}})
