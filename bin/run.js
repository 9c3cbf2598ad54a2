#!/usr/bin/env node
// Probes run on libuv's worker pool and mostly wait for the kernel: let them all run at once.
process.env.UV_THREADPOOL_SIZE ??= '16'
const {execute} = await import('@oclif/core')

await execute({dir: import.meta.url})
