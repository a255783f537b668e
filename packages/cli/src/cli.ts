#!/usr/bin/env node
import { run } from './main.js'

const controller = new AbortController()
// The first Ctrl-C stops gracefully (a rotation journals where it stopped); a second one
// exits at once. Either is "cancelled": exit 2, as gh.
process.once('SIGINT', () => {
  controller.abort()
  process.once('SIGINT', () => process.exit(2))
})
process.once('SIGTERM', () => controller.abort())

const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
}
run(process.argv.slice(2), io, controller.signal).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`error ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
