// Runs the service against OpenRouter, reading its key from a dotenv file that rotation
// delivers to (a git-ignored path by default):
//
//   KEY_VARIABLE=OPENROUTER_MY_SERVICE pnpm start
//   curl http://127.0.0.1:8080/credits
import { KeyFile } from './key-file.js'
import { DEFAULT_KEY_FILE } from './key-file-paths.js'
import { createService } from './service.js'

const keyFile = new KeyFile(
  process.env.KEY_FILE ?? DEFAULT_KEY_FILE,
  process.env.KEY_VARIABLE ?? 'OPENROUTER_API_KEY',
)
const port = Number(process.env.PORT ?? 8080)
const service = createService({
  keyFile,
  vendorUrl: process.env.OPENROUTER_BASE_URL ?? 'https://openrouter.ai/api/v1',
})
// Loopback only: the service is an example, not something to expose.
service.listen(port, '127.0.0.1', () => {
  console.log(`serving http://127.0.0.1:${port}/credits`)
})
