import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** An emulator running in a child process. */
export interface EmulatorProcess {
  settings: { baseUrl: string; managementKey: string }
  stop(): Promise<void>
}

/** Starts `emulator-process.ts` in a child process and waits for its settings. */
export function startEmulatorProcess(options: { seedKeys?: number }): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', here('./emulator-process.ts'), JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  return new Promise((resolve, reject) => {
    let output = ''
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the emulator process exited (${code})`)))
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const line = output.split('\n')[0]
      if (!output.includes('\n') || line === undefined) return
      child.removeAllListeners('exit')
      resolve({
        settings: JSON.parse(line) as EmulatorProcess['settings'],
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done())
            child.kill('SIGTERM')
          }),
      })
    })
  })
}

/** Runs a bench script in a fresh Node process and parses the JSON it prints. */
export function runScript<T>(script: string, args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', here(script), ...args],
      { maxBuffer: 1 << 20 },
      (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout) as T)),
    ),
  )
}
