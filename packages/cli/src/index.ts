export { HELP, run, VERSION } from './main.js'
export type { Io } from './output.js'
export { PROVIDERS, type Provider } from './providers.js'
