// Vitest global setup: the prompt tests drive the CLI in tmux, so a fresh machine gets it from
// the distribution's own packages the first time the tests run.
import { execFileSync } from 'node:child_process'

const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends tmux'

/** Whether `tmux` runs here. */
function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Installs tmux with apt-get when it is missing; throws with the way out when it cannot. */
export function ensureTmux(log: (line: string) => void = console.error): void {
  if (hasTmux()) return
  log('tmux is missing: installing Debian’s tmux package for the prompt tests')
  // apt-get needs root; anyone else goes through sudo.
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo']
  try {
    execFileSync(asRoot[0] ?? 'sh', [...(asRoot.length > 0 ? ['sh'] : []), '-c', INSTALL], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
  } catch (error) {
    throw new Error(
      `Could not install tmux for the CLI's prompt tests (${(error as Error).message}). ` +
        `Install it by hand as root: ${INSTALL}`,
    )
  }
  if (!hasTmux()) throw new Error('apt-get installed tmux, but tmux still does not run')
}

/** Vitest runs this once before any test file. */
export default function setup(): void {
  ensureTmux()
}
