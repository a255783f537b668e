export { HELP, run, VERSION } from './main.js'
export type { Io } from './output.js'
