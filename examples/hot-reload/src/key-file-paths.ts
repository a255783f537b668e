/** Where `pnpm start` reads the key by default: in a folder `.gitignore` keeps out of git. */
export const DEFAULT_KEY_FILE = '.secrets/openrouter.env'
/** Where `pnpm demo` keeps the emulated key while it runs. */
export const DEMO_KEY_FILE = '.secrets/demo.env'
