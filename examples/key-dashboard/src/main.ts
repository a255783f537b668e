// Starts the key dashboard: pnpm start (PORT=4680 to pick the port).
//
// With KEYWAY_CONFIG (or --config <path>) it shows that fleet config's stores and delivery
// targets, opened as `keyway plan` opens them, with the env vars the file names. Without one
// it runs a demo fleet on emulators in this process: two stores of every vendor, and every
// kind of delivery target.
import { parseArgs } from 'node:util'
import { startDashboard } from './dashboard.js'

const { values } = parseArgs({ options: { config: { type: 'string' } } })
const dashboard = await startDashboard({
  port: Number(process.env.PORT ?? 0),
  ...(values.config === undefined ? {} : { config: values.config }),
})
const labels = dashboard.stores.map((entry) => entry.label).join(', ')
const source = dashboard.source === 'emulators' ? 'demo fleet on emulators' : 'from the config'
// The one place the start token is printed; it works until this process ends.
console.log(
  `keyway key dashboard, ${source}: ${labels}\nOpen this URL once, in your browser:\n\n  ${dashboard.loginUrl}\n`,
)
const stop = () => {
  dashboard.close().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
