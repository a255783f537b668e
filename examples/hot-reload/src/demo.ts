// Rotates the service's key while clients keep calling it, all against an OpenRouter
// emulator on loopback: no account, no network. The key file is `.secrets/demo.env`
// (git-ignored), removed at the end.
//
//   pnpm demo
import { mkdir, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import { rotateKey } from '@keyway/core'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { startEmulator } from '@keyway/testkit'
import { writeVariable } from './dotenv-file.js'
import { KeyFile } from './key-file.js'
import { DEMO_KEY_FILE } from './key-file-paths.js'
import { createService } from './service.js'
import { Traffic } from './traffic.js'

const VARIABLE = 'OPENROUTER_API_KEY'
const envFile = DEMO_KEY_FILE

const emulator = await startEmulator('openrouter')
const old = emulator.control.seedKey({ name: 'hot-reload-service' })
await mkdir(dirname(envFile), { recursive: true, mode: 0o700 })
await writeVariable(envFile, VARIABLE, old.secret)
const service = createService({
  keyFile: new KeyFile(envFile, VARIABLE),
  vendorUrl: emulator.settings.baseUrl as string,
})
await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}/credits`

try {
  const traffic = new Traffic(url, 2)
  await traffic.until(() => traffic.outcomes.length >= 20)
  console.log(`serving with key ${old.id.slice(0, 12)}…; rotating it (grace 2 s)`)
  const result = await rotateKey(createOpenRouterKeyStore({ ...emulator.settings }), {
    keyId: old.id,
    deliver: (created) => writeVariable(envFile, VARIABLE, created.secret.reveal()),
    graceMs: 2000,
    retire: 'delete',
    onWait: (wait) =>
      console.log(`new key delivered; waiting ${wait.ms} ms before deleting the old one`),
  })
  const atEnd = traffic.outcomes.length
  await traffic.until(() => traffic.outcomes.length >= atEnd + 20)
  await traffic.stop()
  const used = (id: string) =>
    emulator.requests.filter(
      (request) => request.headers['x-title'] !== undefined && request.credentialDigest === id,
    ).length
  console.log(`old key ${result.retired}; now serving with ${result.newKeyId.slice(0, 12)}…`)
  console.log(
    `${traffic.outcomes.length} requests, ${traffic.failed.length} failed; ` +
      `${used(old.id)} used the old key, ${used(result.newKeyId)} the new one`,
  )
  process.exitCode = traffic.failed.length === 0 ? 0 : 1
} finally {
  service.closeAllConnections()
  service.close()
  await emulator.close()
  await rm(envFile, { force: true })
}
