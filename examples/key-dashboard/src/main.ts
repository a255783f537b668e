// Starts the key dashboard: pnpm start (PORT=4680 to pick the port).
//
// Each vendor runs against an in-process emulator unless its credential env var is set
// (OPENROUTER_MANAGEMENT_KEY, LATITUDESH_BEARER, NOTEDX_ID_TOKEN or NOTEDX_EMAIL +
// NOTEDX_PASSWORD, VOICEABLE_API_KEY or VOICEABLE_TOKEN): then it is the real account.
import { startDashboard } from './dashboard.js'

const dashboard = await startDashboard({ port: Number(process.env.PORT ?? 0) })
const sources = dashboard.stores.map((entry) => `${entry.title}: ${entry.source}`).join(', ')
// The one place the start token is printed; it works until this process ends.
console.log(
  `keyway key dashboard (${sources})\nOpen this URL once, in your browser:\n\n  ${dashboard.loginUrl}\n`,
)
const stop = () => {
  dashboard.close().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
