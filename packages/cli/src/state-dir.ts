import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'

/**
 * Where keyway keeps its own state (rotation journals) by default, following each platform's
 * convention rather than the current folder, which is often a git work tree:
 * `$XDG_STATE_HOME/keyway` (default `~/.local/state/keyway`) on Linux and other Unixes,
 * `~/Library/Application Support/keyway` on macOS, `%LOCALAPPDATA%\keyway` on Windows.
 */
export function stateDir(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32')
    return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'keyway')
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'keyway')
  // The XDG spec: a relative path in the variable is invalid and ignored.
  const xdg = env.XDG_STATE_HOME
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, '.local', 'state'), 'keyway')
}

/** The journal of `keyway rotate` when `--journal` names none. */
export function defaultRotateJournal(env: Readonly<Record<string, string | undefined>>): string {
  return join(stateDir(env), 'rotations.json')
}

/** The journal of `keyway apply` when neither a flag, an env var nor the config names one. */
export function defaultFleetJournal(env: Readonly<Record<string, string | undefined>>): string {
  return join(stateDir(env), 'fleet-rotations.json')
}

/** The history of every change keyway made, when neither `--history` nor `KEYWAY_HISTORY` names one. */
export function defaultHistory(env: Readonly<Record<string, string | undefined>>): string {
  return join(stateDir(env), 'history.jsonl')
}
