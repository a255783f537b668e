import { describe, expect, it } from 'vitest'
import { stateDir } from './state-dir.js'

describe('stateDir', () => {
  it('follows XDG_STATE_HOME on Linux, else ~/.local/state', () => {
    expect(stateDir({ XDG_STATE_HOME: '/var/state' }, 'linux', '/home/ada')).toBe(
      '/var/state/keyway',
    )
    expect(stateDir({}, 'linux', '/home/ada')).toBe('/home/ada/.local/state/keyway')
    // A relative XDG path is invalid by the spec and ignored.
    expect(stateDir({ XDG_STATE_HOME: 'state' }, 'linux', '/home/ada')).toBe(
      '/home/ada/.local/state/keyway',
    )
  })

  it('uses Application Support on macOS and LOCALAPPDATA on Windows', () => {
    expect(stateDir({ XDG_STATE_HOME: '/x' }, 'darwin', '/Users/ada')).toBe(
      '/Users/ada/Library/Application Support/keyway',
    )
    expect(
      stateDir({ LOCALAPPDATA: 'C:/Users/ada/AppData/Local' }, 'win32', 'C:/Users/ada'),
    ).toMatch(/^C:[\\/]Users[\\/]ada[\\/]AppData[\\/]Local[\\/]keyway$/)
  })
})
