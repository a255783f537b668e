import type { Context } from '../context.js'
import { OPTIONS } from '../flags.js'
import { COMMAND_HELP } from '../help.js'
import { VENDOR_IDS } from '../providers.js'
import { didYouMean } from '../suggest.js'
import { UsageError } from '../usage-error.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const

/** `keyway completion <bash|zsh|fish>`: a completion script for commands, flags and vendors. */
export async function completion(context: Context): Promise<number> {
  const [shell, ...extra] = context.positionals
  if (shell === undefined || extra.length > 0)
    throw new UsageError('completion takes one shell', `one of: ${SHELLS.join(', ')}`)
  const commands = Object.keys(COMMAND_HELP)
  const flags = Object.entries(OPTIONS).flatMap(([name, option]) =>
    option.type === 'boolean' ? [`--${name}`, `--no-${name}`] : [`--${name}`],
  )
  switch (shell) {
    case 'bash':
      context.out(bash(commands, flags))
      return 0
    case 'zsh':
      context.out(zsh(commands, flags))
      return 0
    case 'fish':
      context.out(fish(commands))
      return 0
    default:
      throw new UsageError(
        `no completion for "${shell}"`,
        didYouMean(shell, SHELLS, `one of: ${SHELLS.join(', ')}`),
      )
  }
}

function bash(commands: string[], flags: string[]): string {
  return `# keyway completion for bash: source <(keyway completion bash)
_keyway() {
  local current previous
  current="\${COMP_WORDS[COMP_CWORD]}"
  previous="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$previous" in
    -p|--provider) COMPREPLY=($(compgen -W "${VENDOR_IDS.join(' ')}" -- "$current")); return ;;
    --deliver-to|--journal|--dotenv|-c|--config) COMPREPLY=($(compgen -f -- "$current")); return ;;
  esac
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.join(' ')}" -- "$current"))
  elif [ "\${COMP_WORDS[1]}" = completion ]; then
    COMPREPLY=($(compgen -W "${SHELLS.join(' ')}" -- "$current"))
  elif [[ "$current" == -* ]]; then
    COMPREPLY=($(compgen -W "${flags.join(' ')}" -- "$current"))
  fi
}
complete -F _keyway keyway`
}

function zsh(commands: string[], flags: string[]): string {
  return `#compdef keyway
# keyway completion for zsh: keyway completion zsh > ~/.zfunc/_keyway
_keyway() {
  if (( CURRENT == 2 )); then
    compadd -- ${commands.join(' ')}
  elif [[ "\${words[CURRENT-1]}" == (-p|--provider) ]]; then
    compadd -- ${VENDOR_IDS.join(' ')}
  elif [[ "\${words[2]}" == completion ]]; then
    compadd -- ${SHELLS.join(' ')}
  elif [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- ${flags.join(' ')}
  else
    _files
  fi
}
# Loaded from fpath the file is the function: complete now. Sourced: register it.
if [ "$funcstack[1]" = "_keyway" ]; then
  _keyway "$@"
else
  compdef _keyway keyway
fi`
}

function fish(commands: string[]): string {
  const lines = [
    '# keyway completion for fish: keyway completion fish > ~/.config/fish/completions/keyway.fish',
    'complete -c keyway -f',
    ...commands.map(
      (command) =>
        `complete -c keyway -n __fish_use_subcommand -a ${command} -d '${(COMMAND_HELP[command]?.summary ?? '').replaceAll("'", "\\'")}'`,
    ),
    `complete -c keyway -n '__fish_seen_subcommand_from completion' -a '${SHELLS.join(' ')}'`,
    ...Object.entries(OPTIONS).map(([name, option]) => {
      const short = 'short' in option ? ` -s ${option.short}` : ''
      const value =
        name === 'provider'
          ? ` -x -a '${VENDOR_IDS.join(' ')}'`
          : option.type === 'string'
            ? ' -r'
            : ''
      return `complete -c keyway -l ${name}${short}${value}`
    }),
  ]
  return lines.join('\n')
}
