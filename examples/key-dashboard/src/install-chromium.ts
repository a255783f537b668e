// Vitest global setup: the browser test drives Debian's Chromium, so a fresh machine gets it
// from the distribution's own packages the first time the tests run.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends chromium'

/** Installs Chromium with apt-get when it is missing; throws with the way out when it cannot. */
export function ensureChromium(log: (line: string) => void = console.error): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH
  log(`${CHROMIUM_PATH} is missing: installing Debian's chromium package`)
  // apt-get needs root; anyone else goes through sudo.
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo']
  try {
    execFileSync(asRoot[0] ?? 'sh', [...(asRoot.length > 0 ? ['sh'] : []), '-c', INSTALL], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
  } catch (error) {
    throw new Error(
      `Could not install Chromium for the browser test (${(error as Error).message}). ` +
        `Install it by hand as root: ${INSTALL}`,
    )
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get installed chromium, but ${CHROMIUM_PATH} is still missing`)
  }
  return CHROMIUM_PATH
}

/** Vitest runs this once before any test file. */
export default function setup(): void {
  ensureChromium()
}
