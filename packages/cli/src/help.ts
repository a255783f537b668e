import {
  DEFAULT_ROTATION_CONCURRENCY,
  type KeyField,
  type KeyFieldOperation,
} from '@keyway/core/adapter'
import { DEFAULT_FAIL_ON, OVERRIDES } from './config/fleet-settings.js'
import { DEFAULT_VAR_NAME } from './deliver.js'
import { DEFAULT_TIMEOUT } from './duration.js'
import { fieldFlags, SETTING_FLAGS } from './flags.js'
import { credentialText, PROVIDERS, VENDOR_IDS } from './providers.js'

/** The help of one command: what `keyway help <command>` and `keyway <command> --help` print. */
export interface CommandHelp {
  /** One line for the command list. */
  summary: string
  /** After `keyway `. */
  usage: string
  /** Paragraph under the usage line. */
  description?: string
  /** Flag spelling → what it does. */
  flags?: ReadonlyArray<readonly [string, string]>
  examples: readonly string[]
  /** The common flags the command takes besides `--no-color`, `--debug` and `--help`. */
  common: readonly CommonFlag[]
}

/**
 * Flags several commands share: `provider` and `emulator` for the commands on one vendor's
 * keys, `json` (plain) or `json-fields` (`--json[=<fields>]`, for commands that print keys),
 * `timeout` for every command that talks to a vendor.
 */
export type CommonFlag = 'provider' | 'json' | 'json-fields' | 'emulator' | 'timeout' | 'history'

const KEYS_PRINTED: readonly CommonFlag[] = ['provider', 'json-fields', 'emulator', 'timeout']
const KEYS_CHANGED: readonly CommonFlag[] = ['provider', 'json', 'emulator', 'timeout', 'history']
const FROM_CONFIG: readonly CommonFlag[] = ['json', 'timeout']

/** Where the commands that change something record it. */
const HISTORY_FLAG = [
  '--history <file>',
  'where changes are recorded (KEYWAY_HISTORY; default in keyway’s state folder)',
] as const

/** A flag of the fleet commands that an env var stands in for, as help spells it. */
const overridable = (source: { flag: string; env: string }, value: string, help: string) =>
  [`--${source.flag} ${value}`, `${help} (${source.env})`] as const

/** The flags `audit`, `plan` and `apply` share: which config, which stores, which policy. */
const FLEET_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['-c, --config <file>', 'the config file (KEYWAY_CONFIG; default ./keyway.config.json)'],
  ['--store <label>', 'only this store (repeat, or a,b; KEYWAY_STORE)'],
  overridable(OVERRIDES.maxAgeDays, '<n>', 'a key older than this is too old'),
  overridable(OVERRIDES.unusedDays, '<n>', 'a key not used for this long is unused'),
  overridable(OVERRIDES.expiringWithinDays, '<n>', 'a key expiring this soon is expiring-soon'),
]

const FLEET_NOTE =
  'Works on every store of keyway.config.json (or --config); a flag beats its env var, which ' +
  'beats the file. A missing credential env var exits 4; a config that cannot be used exits 1.'

const DRY_RUN = ['--dry-run', 'show what would be done; changes nothing'] as const

/** A successor's lifetime, for `rotate` and `apply`. */
const EXPIRES_IN = [
  '--expires-in <days>d',
  'each new key expires this long after it is made, e.g. 90d (default: the old key’s expiry)',
] as const

const JOURNAL_FLAG = [
  '--journal <file>',
  'progress, for resuming (KEYWAY_JOURNAL; default in keyway’s state folder)',
] as const

/** The rotation flags `apply` takes for every store of the config. */
const FLEET_ROTATION_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['--batch-id <id>', 'resume that batch if the journal knows it, else start one under that id'],
  JOURNAL_FLAG,
  overridable(OVERRIDES.retire, '<delete|disable|keep>', 'what happens to old keys'),
  overridable(OVERRIDES.graceMs, '<ms>', 'wait between delivering and retiring'),
  overridable(OVERRIDES.concurrency, '<n>', 'rotations at once per store'),
  overridable(OVERRIDES.expiresInDays, '<days>d', EXPIRES_IN[1]),
  DRY_RUN,
  ['-y, --yes', 'do not ask'],
]

/** `disable` and `delete` of every key a name glob matches. */
const BY_NAME = [
  '--name <glob>',
  'every key whose name matches (* any run, ? one character)',
] as const
const BY_NAME_NOTE =
  'With --name, every matching key is listed and asked about once (a nameless key never ' +
  'matches); nothing is sent when none matches.'

const KEY = '<key>'
const KEY_NOTE = `${KEY} is a key id, a key name, or the start of an id that only one key has.`

/** A field flag as help spells it: `--allowed-ip <ip|cidr>`, `--limit-reset <daily|…|none>`. */
function fieldSpelling(field: KeyField): string {
  const flag = `--${field.flag}`
  switch (field.kind) {
    case 'switch':
      return flag
    case 'date':
      return `${flag} <date>`
    case 'choice':
      return `${flag} <${[...field.choices, ...(field.none ? ['none'] : [])].join('|')}>`
    default:
      return `${flag} <${field.value}${field.kind === 'number' && field.none ? '|none' : ''}>`
  }
}

/** The key field flags `operation` takes, each vendor's marked with its id. */
function fieldLines(operation: KeyFieldOperation): ReadonlyArray<readonly [string, string]> {
  return fieldFlags(operation).map(({ field, vendor }) => [
    fieldSpelling(field),
    `${vendor === undefined ? '' : `${vendor}: `}${field.help}${field.kind === 'list' ? ' (repeat for more)' : ''}`,
  ])
}

/** The vendors' store settings a rotation takes as flags. */
const SETTING_LINES: ReadonlyArray<readonly [string, string]> = SETTING_FLAGS.map(
  ({ setting, vendor }) => [`--${setting.flag} <${setting.value}>`, `${vendor}: ${setting.help}`],
)

/** Every command's help, in the order the root help lists them. */
export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  list: {
    common: KEYS_PRINTED,
    summary: 'list keys',
    usage: 'list --provider <vendor> [--no-include-disabled] [--json]',
    description:
      'On a terminal: an aligned table with the vendor’s own columns, and the key keyway uses marked *. ' +
      'Piped: one key a line, tab-separated, no header (ID NAME STATUS HINT [vendor columns] [EXPIRES] CREATED LAST-USED). ' +
      'Dates are UTC.',
    flags: [['--no-include-disabled', 'active keys only (disabled keys are listed by default)']],
    examples: [
      'keyway list -p openrouter',
      'keyway list -p latitudesh --no-include-disabled --json',
      'keyway list -p notedx | cut -f1',
      'keyway list -p openrouter --json=id,name,expiresAt',
    ],
  },
  get: {
    common: KEYS_PRINTED,
    summary: 'show one key',
    usage: `get ${KEY} --provider <vendor> [--json]`,
    description: KEY_NOTE,
    examples: ['keyway get ci-deploy -p openrouter', 'keyway get 3f9a1c -p openrouter --json'],
  },
  create: {
    common: KEYS_CHANGED,
    summary: 'create a key; prints its secret once',
    usage: 'create --provider <vendor> [key field flags] [--json]',
    description: 'A flag the vendor does not take is refused before anything is sent.',
    flags: [...fieldLines('create'), DRY_RUN],
    examples: [
      'keyway create -p openrouter --name ci --limit 5 --limit-reset monthly',
      'keyway create -p latitudesh --name backups --read-only --allowed-ip 198.51.100.0/24',
      'keyway create -p openrouter --name temp --expires-at 2027-01-31',
      'keyway create -p openrouter --name team-a --workspace <workspace-id> --guardrail <guardrail-id>',
    ],
  },
  update: {
    common: [...KEYS_PRINTED, 'history'],
    summary: 'change fields of a key',
    usage: `update ${KEY} --provider <vendor> [key field flags] [--json]`,
    description: KEY_NOTE,
    flags: [...fieldLines('update'), DRY_RUN],
    examples: [
      'keyway update ci -p openrouter --limit 10',
      'keyway update ci -p openrouter --name ci-2',
    ],
  },
  enable: {
    common: [...KEYS_PRINTED, 'history'],
    summary: 'enable a disabled key',
    usage: `enable ${KEY} --provider <vendor>`,
    description: `${KEY_NOTE} Only where the vendor can disable keys.`,
    flags: [DRY_RUN],
    examples: ['keyway enable ci -p openrouter'],
  },
  disable: {
    common: [...KEYS_PRINTED, 'history'],
    summary: 'disable a key without deleting it',
    usage: `disable ${KEY} | --name <glob> --provider <vendor>`,
    description: `${KEY_NOTE} Only where the vendor can disable keys. ${BY_NAME_NOTE}`,
    flags: [BY_NAME, ['-y, --yes', 'do not ask (with --name)'], DRY_RUN],
    examples: [
      'keyway disable ci -p openrouter',
      'keyway disable ci -p openrouter --dry-run',
      "keyway disable --name 'ci-*' -p openrouter",
    ],
  },
  delete: {
    common: KEYS_CHANGED,
    summary: 'delete a key (asks first)',
    usage: `delete ${KEY} | --name <glob> --provider <vendor> [--yes]`,
    description: `${KEY_NOTE} Answering no exits 2; without a terminal, --yes is required. ${BY_NAME_NOTE}`,
    flags: [BY_NAME, ['-y, --yes', 'do not ask'], DRY_RUN],
    examples: [
      'keyway delete old-ci -p openrouter',
      'keyway delete 3f9a1c -p openrouter --yes',
      'keyway delete old-ci -p openrouter --dry-run',
      "keyway delete --name 'tmp-*' -p latitudesh --dry-run",
    ],
  },
  rotate: {
    common: KEYS_CHANGED,
    summary: 'create, deliver, verify, then retire the old key',
    usage: `rotate ${KEY} | --all | --name <glob> --provider <vendor> [options]`,
    description:
      `${KEY_NOTE} Each new key gets the old key's settings; key field flags override them. ` +
      'Without --deliver-to, one key goes to the targets its store has in the fleet config when ' +
      'one is present (--config, KEYWAY_CONFIG or keyway.config.json here; --store picks the ' +
      'store), the old key retired only after each confirmed; with no config or no target for ' +
      'it, its new secret is printed at once, before its old key is touched.',
    flags: [
      ['--all', 'every key of the account'],
      ['--name <glob>', 'keys whose name matches (* and ?)'],
      [
        '--deliver-to <file.env|exec:cmd>',
        'where new secrets go; required for --all and --name unless --retire keep',
      ],
      [
        '--var-name <template>',
        `the variable each secret is stored as; {PROVIDER}, {NAME}, {ID} (default ${DEFAULT_VAR_NAME})`,
      ],
      DRY_RUN,
      ['--retire <delete|disable|keep>', 'what happens to the old key (default delete)'],
      ['--grace-ms <ms>', 'wait between delivering and retiring (default 0)'],
      ['--strategy <create|regenerate>', 'regenerate in place where the vendor can'],
      ['--journal <file>', 'progress, for resuming (default in keyway’s state folder)'],
      ['--batch-id <id>', 'resume that batch: exactly its unfinished keys'],
      ['--allow-self', 'allow rotating the key keyway itself uses'],
      ...SETTING_LINES,
      ['--concurrency <n>', `rotations at once (default ${DEFAULT_ROTATION_CONCURRENCY})`],
      EXPIRES_IN,
      ['-y, --yes', 'do not ask'],
      // The fields a successor takes beside its old key's settings.
      ...fieldLines('rotate'),
    ],
    examples: [
      'keyway rotate ci-deploy -p openrouter',
      "keyway rotate --name 'ci-*' -p openrouter --deliver-to .env --var-name 'OPENROUTER_{NAME}'",
      'keyway rotate --all -p latitudesh --dry-run',
      'keyway rotate --all -p notedx --deliver-to exec:./store-secret.sh --yes',
    ],
  },
  emulate: {
    common: ['json'],
    summary: 'run emulators and print the env exports for them',
    usage:
      'emulate [vendor|github|vercel|aws|kubernetes|vault|all] [--port <n>] [--dotenv <file>] [--background] [--json]',
    description:
      'Runs loopback emulators of the vendors, and of GitHub, Vercel, AWS Secrets Manager, Kubernetes and Vault for delivery targets, ' +
      'with fake credentials, and prints `export` lines that point keyway and the adapters at them. In the foreground it runs until Ctrl-C; ' +
      'with --background it prints the exports and exits, the emulators running on in a ' +
      'background process (stop it with kill $KEYWAY_EMULATOR_PID).',
    flags: [
      ['--port <n>', 'fixed ports: the first emulator on n, the next on n+1, …'],
      ['--dotenv <file>', 'also write the variables to a dotenv file'],
      ['--background', 'print the exports, then exit; the emulators keep running'],
    ],
    examples: [
      'eval "$(keyway emulate --background)"',
      'keyway emulate openrouter --port 8787 --dotenv .env.emulators',
      'keyway emulate all --background --json',
    ],
  },
  demo: {
    common: ['json'],
    summary:
      'rotate keys at all four vendors, then audit, plan and apply one config; emulated, no account needed',
    usage: 'demo [--json]',
    examples: ['keyway demo', 'keyway demo --json'],
  },
  audit: {
    common: FROM_CONFIG,
    summary: 'every key of every store in keyway.config.json, with findings',
    usage: 'audit [--config <file>] [--store <label>] [--fail-on <kinds>] [--json]',
    description:
      `${FLEET_NOTE} Lists each key's age, last use, expiry, status, spend and findings, and ` +
      'checks each delivery target can be reached and written, without writing. ' +
      'Exits 0 when no key has a finding of the --fail-on kinds, 8 when some do, 1 when a ' +
      'store could not be read (its credential refused included; the other stores are still ' +
      'listed) or a target cannot be reached or written, 4 when no store could be read because ' +
      'each refused its credential.',
    flags: [
      ...FLEET_FLAGS,
      [
        '--fail-on <kinds|any|none>',
        `finding kinds that exit 8 (KEYWAY_FAIL_ON; default ${DEFAULT_FAIL_ON.join(',')})`,
      ],
    ],
    examples: [
      'keyway audit',
      'keyway audit --store openrouter-prod --json',
      'keyway audit --fail-on too-old,expiring-soon --max-age-days 90',
    ],
  },
  plan: {
    common: FROM_CONFIG,
    summary: 'what apply would rotate and why; writes nothing',
    usage: 'plan [--config <file>] [--store <label>] [--json]',
    description:
      `${FLEET_NOTE} Shows, store by store, each key apply would rotate, the finding behind ` +
      'it, and the rotation’s detail: what is carried over, each delivery target and what ' +
      'happens there (what is written where, what is redeployed and waited for, what cannot ' +
      'be confirmed), what happens to the old key. Exits 1 when a store could not be read.',
    flags: FLEET_FLAGS,
    examples: ['keyway plan', 'keyway plan --store latitude --max-age-days 60 --json'],
  },
  apply: {
    common: [...FROM_CONFIG, 'history'],
    summary: 'rotate what plan shows, delivering to each store’s target',
    usage: 'apply [--config <file>] [--store <label>] [--batch-id <id>] [--yes] [--json]',
    description:
      `${FLEET_NOTE} Plans as plan does, shows it, asks (without a terminal, --yes is ` +
      'required), then rotates exactly those keys. Keys of one store whose variable template ' +
      'makes one name are refused before anything is written. Each new secret stays sealed ' +
      'beside the journal until its rotation ends (with a key derived from the store’s ' +
      'credential, or KEYWAY_SEALING_KEY when set), so a run cut off part way resumes with ' +
      'it and writes each target once. Exits 0 when every key ' +
      'rotated, 1 when a key or a store failed, 2 when answered no or on Ctrl-C.',
    flags: [...FLEET_FLAGS, ...FLEET_ROTATION_FLAGS],
    examples: [
      'keyway apply',
      'keyway apply --yes --batch-id nightly-$(date -u +%F)',
      'keyway apply --store openrouter-prod --retire disable --grace-ms 60000',
      'keyway apply --expires-in 90d --dry-run',
    ],
  },
  status: {
    common: FROM_CONFIG,
    summary: 'each store’s credential, and each key’s last rotation, next due and last failure',
    usage: 'status [--config <file>] [--store <label>] [--json]',
    description:
      `${FLEET_NOTE} Per store: the account its credential reaches (base URL, a keyed digest ` +
      'of the credential, never the credential) and which listed key it is, where the vendor ' +
      'tells. Per key: its schedule, when it was last rotated (the vendor’s creation time, or ' +
      'a regenerate in history), when it is next due (by its schedule, else the policy’s ' +
      'max age), and its last failed change from history with the error’s code. Reads only.',
    flags: [...FLEET_FLAGS.slice(0, 3), HISTORY_FLAG],
    examples: ['keyway status', 'keyway status --store openrouter-prod --json'],
  },
  revoke: {
    common: [...FROM_CONFIG, 'history'],
    summary: 'find a leaked key in every store, disable it, replace it, delete it',
    usage:
      'revoke [--hint <start…end> | --sha256 <hex>] [--now] [--dry-run] [--yes] [--json] < secret',
    description:
      `${FLEET_NOTE} Reads the leaked secret from stdin (never an argument), or takes a hint ` +
      '(its start and/or end, as sk-or-v1-abc…123 or …a1b2c) or the start of its SHA-256. ' +
      'Each store is searched by what its vendor offers: the key id the secret gives, the part ' +
      'of the secret the vendor shows, or the SHA-256 a key id holds; the secret is sent to no ' +
      'vendor but the one whose keys look like it. Exactly one match: it is disabled at once ' +
      'where the vendor can, replaced by a new key delivered to its store’s targets, and ' +
      'deleted after the grace period (--now: at once). Several matches or none: they are ' +
      'listed, nothing changes, exit 1. Exits 2 when answered no.',
    flags: [
      ...FLEET_FLAGS.slice(0, 2),
      ['--hint <start…end>', 'what is known of the secret: start…end, start… or …end'],
      [
        '--sha256 <hex>',
        'the start of the secret’s SHA-256 (8 to 64 digits), e.g. sha256:3b37026c',
      ],
      ['--now', 'delete the old key at once, without the grace period'],
      [
        '--batch-id <id>',
        'names the replacement’s batch (default revoke-<random>); one the journal holds is finished, as an interrupted revoke prints',
      ],
      JOURNAL_FLAG,
      DRY_RUN,
      ['-y, --yes', 'do not ask (required when the secret comes on stdin)'],
    ],
    examples: [
      'keyway revoke --yes < leaked.txt',
      'pbpaste | keyway revoke --dry-run',
      "keyway revoke --hint 'sk-or-v1-abc…123'",
      'keyway revoke --sha256 sha256:3b37026c --now --yes --json',
    ],
  },
  history: {
    common: ['json'],
    summary: 'every change keyway made at vendors and delivery targets',
    usage:
      'history [--store <label>] [--key <id>] [--batch-id <id>] [--since <date|duration>] [--action <a,b>] [--outcome <o>] [--json]',
    description:
      'Reads --history, else KEYWAY_HISTORY, else the config’s "history", else keyway’s state ' +
      'folder. Each change (create, update, rename, enable, disable, delete, regenerate, and each write ' +
      'or propagate of a new secret) with its store, account, key, batch, rotation, outcome, ' +
      'time and who made it. Recorded before and after the change, so a change whose process ' +
      'was killed in between shows as "unknown". Never a secret; never pruned.',
    flags: [
      HISTORY_FLAG,
      [
        '--database-url <url>',
        'read @keyway/dbos workers’ history table in this Postgres instead (KEYWAY_DATABASE_URL)',
      ],
      ['-c, --config <file>', 'the config whose "history" to read (KEYWAY_CONFIG)'],
      [
        '--store <label>',
        'only this store’s changes (repeat, or a,b; a vendor’s id for -p commands)',
      ],
      ['-p, --provider <vendor>', 'only changes at this vendor'],
      ['--key <id>', 'only changes of this key'],
      ['--batch-id <id>', 'only changes of this batch'],
      [
        '--since <date|duration>',
        'only changes since a date (2026-12-01) or for a time (90m, 12h, 7d, 2w)',
      ],
      ['--action <actions>', 'only these actions, e.g. create,delete'],
      ['--outcome <outcomes>', 'only these outcomes: succeeded, failed, unknown'],
    ],
    examples: [
      'keyway history',
      'keyway history --since 7d --outcome failed,unknown',
      'keyway history --store openrouter-prod --batch-id nightly-2026-12-07 --json',
    ],
  },
  completion: {
    common: [],
    summary: 'print a shell completion script',
    usage: 'completion <bash|zsh|fish>',
    examples: [
      'source <(keyway completion bash)',
      'keyway completion zsh > ~/.zfunc/_keyway   # with fpath+=(~/.zfunc) in .zshrc',
      'keyway completion fish > ~/.config/fish/completions/keyway.fish',
    ],
  },
  help: {
    common: [],
    summary: 'show help for a command',
    usage: 'help [command]',
    examples: ['keyway help rotate'],
  },
}

const COMMON_FLAG_TEXT: Readonly<Record<CommonFlag, readonly [string, string]>> = {
  history: HISTORY_FLAG,
  provider: ['-p, --provider <vendor>', VENDOR_IDS.join(', ')],
  'json-fields': ['--json[=<fields>]', 'machine-readable output (ISO dates); fields as id,name'],
  json: ['--json', 'machine-readable output (ISO dates)'],
  emulator: ['--emulator', 'run against a fresh embedded emulator'],
  timeout: [
    '--timeout <duration>',
    `time limit per attempt (KEYWAY_TIMEOUT; default ${DEFAULT_TIMEOUT})`,
  ],
}

/** Flags every command takes. */
const EVERY_COMMAND: ReadonlyArray<readonly [string, string]> = [
  ['--no-color', 'no colour (also NO_COLOR)'],
  ['--debug', 'stack traces and causes on errors'],
  ['-h, --help', 'help'],
]

/** The root page's flags: every common flag, each command's page showing the ones it takes. */
const COMMON_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ...(['provider', 'json-fields', 'emulator', 'timeout'] as const).map(
    (flag) => COMMON_FLAG_TEXT[flag],
  ),
  ...EVERY_COMMAND,
]

/** Flags in two columns; a long spelling or text goes on lines of its own, within 80 columns. */
function flagLines(flags: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.min(26, Math.max(...flags.map(([flag]) => flag.length)))
  return flags
    .map(([flag, text]) => {
      const fits = flag.length <= width && width + 4 + text.length <= 80
      return fits ? `  ${flag.padEnd(width)}  ${text}` : `  ${flag}\n${wrap(text, 6)}`
    })
    .join('\n')
}

const ENVIRONMENT = Object.values(PROVIDERS)
  .map((provider) => `  ${provider.title}: ${credentialText(provider)}; ${provider.baseUrlEnv}`)
  .join('\n')

const EXIT_CODES = `  0 success   1 failure or usage error   2 cancelled (answered no, Ctrl-C)
  4 authentication needed (no credential, a malformed one, or one the vendor refused)
  8 audit: keys have findings of the --fail-on kinds`

/** The root help: commands, common flags, env vars, exit codes. */
export function rootHelp(version: string): string {
  const names = Object.keys(COMMAND_HELP)
  const width = Math.max(...names.map((name) => name.length))
  const commands = names
    .map((name) => `  ${name.padEnd(width)}  ${COMMAND_HELP[name]?.summary}`)
    .join('\n')
  return `keyway ${version}: manage API keys at many vendors through one interface

Usage
  keyway <command> [key] --provider <vendor> [flags]
  keyway audit|plan|apply [--config <file>] [flags]

Commands
${commands}

Flags
${flagLines([...COMMON_FLAGS, ['-v, --version', 'the version']])}

Environment (credential; base URL)
${ENVIRONMENT}
  KEYWAY_FORCE_TTY=1  tables and colour as on a terminal; NO_COLOR  no colour

Exit codes
${EXIT_CODES}

Run keyway help <command> for its flags and examples.
`
}

/** One command's help, or `undefined` for a command without one. */
export function commandHelp(name: string): string | undefined {
  const help = COMMAND_HELP[name]
  if (help === undefined) return undefined
  return [
    `${help.summary[0]?.toUpperCase()}${help.summary.slice(1)}.`,
    '',
    'Usage',
    `  keyway ${help.usage}`,
    ...(help.description ? ['', wrap(help.description)] : []),
    ...(help.flags ? ['', 'Flags', flagLines(help.flags)] : []),
    '',
    'Common flags',
    flagLines([...help.common.map((flag) => COMMON_FLAG_TEXT[flag]), ...EVERY_COMMAND]),
    '',
    'Examples',
    ...help.examples.map((example) => `  $ ${example}`),
    '',
  ].join('\n')
}

/** Words wrapped within 80 columns, indented. */
function wrap(text: string, indent = 2): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + word.length + 1 > 80 - indent) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(line)
  return lines.map((text) => `${' '.repeat(indent)}${text}`).join('\n')
}

/** The spellings of root flags, for `keyway` without a command and `keyway help`. */
const ROOT_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ...EVERY_COMMAND,
  ['-v, --version', 'the version'],
]

/**
 * The long names (as parseArgs knows them) of every flag a command takes, read from its help
 * page: the help is the one definition of a command's flags, so a flag is accepted exactly
 * where it is documented. `undefined` for an unknown command.
 */
export function commandFlagNames(command: string | undefined): string[] | undefined {
  const help = command === undefined || command === 'help' ? undefined : COMMAND_HELP[command]
  if (command !== undefined && command !== 'help' && help === undefined) return undefined
  const spellings =
    help === undefined
      ? ROOT_FLAGS
      : [
          ...(help.flags ?? []),
          ...help.common.map((flag) => COMMON_FLAG_TEXT[flag]),
          ...EVERY_COMMAND,
        ]
  return [...new Set(spellings.map(([spelling]) => longName(spelling)))]
}

/** `-c, --config <file>` → `config`; `--no-color` → `color`; `--json[=<fields>]` → `json`. */
function longName(spelling: string): string {
  const name = /--([a-z][a-z0-9-]*)/.exec(spelling)?.[1] ?? spelling
  return name.startsWith('no-') ? name.slice(3) : name
}
