import { readFile, writeFile } from 'node:fs/promises'

interface Results {
  date: string
  machine: { node: string; cpus: number; cpuModel: string; memoryGb: number }
  results: Array<{
    name: string
    unit: string
    medians: Record<string, number>
    spread?: Record<string, [number, number]>
    ratio: number | null
    ratioSpread?: [number, number]
    note?: string
    target: string
    met: boolean | null
  }>
}

const START = '<!-- bench:start -->'
const END = '<!-- bench:end -->'

/** Rewrites the README's performance section, between its markers, from results.json. */
export async function updateReadme(resultsPath: string, readmePath: string): Promise<void> {
  const data = JSON.parse(await readFile(resultsPath, 'utf8')) as Results
  const { machine } = data
  const rows = data.results.map((result) => {
    const figures = Object.entries(result.medians)
      .map(([name, value]) => {
        const spread = result.spread?.[name]
        return `${name}: ${value} ${result.unit}${spread ? ` (${spread[0]}–${spread[1]})` : ''}`
      })
      .join('<br>')
    const verdict = result.met === null ? '' : result.met ? ' ✓' : ' ✗'
    const ratio =
      result.ratio === null
        ? '-'
        : `${result.ratio}${result.ratioSpread ? ` (${result.ratioSpread[0]}–${result.ratioSpread[1]})` : ''}`
    const note = result.note ? `<br>${result.note}` : ''
    return `| ${result.name}${note} | ${figures} | ${ratio} | ${result.target}${verdict} |`
  })
  const section = [
    START,
    `Measured by \`pnpm bench\` on ${data.date.slice(0, 10)}: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GiB, Node ${machine.node}, against the loopback emulators (medians, with min–max in brackets; see \`bench/results.json\`).`,
    '',
    '| benchmark | medians | ratio | target |',
    '|---|---|---|---|',
    ...rows,
    END,
  ].join('\n')
  const readme = await readFile(readmePath, 'utf8')
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end === -1) throw new Error('the README has no benchmark markers')
  await writeFile(readmePath, readme.slice(0, start) + section + readme.slice(end + END.length))
}
