import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { WorkerCommand, WorkerConfig } from './worker.js'

/** A worker in its own process, driven over IPC. */
export interface WorkerProcess {
  child: ChildProcess
  send(command: WorkerCommand): Promise<unknown>
  /** Resolves when the process ended, with the signal that ended it, if any. */
  exited: Promise<NodeJS.Signals | null>
}

const script = fileURLToPath(new URL('./worker.ts', import.meta.url))

/**
 * Starts a worker and waits until DBOS launched in it. With `output`, what it prints (its
 * logs) is also collected there, for the tests to search.
 */
export function startWorker(config: WorkerConfig, output?: string[]): Promise<WorkerProcess> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, KEYWAY_WORKER: JSON.stringify(config) },
    stdio: [
      'ignore',
      output === undefined ? 'inherit' : 'pipe',
      output === undefined ? 'inherit' : 'pipe',
      'ipc',
    ],
  })
  if (output !== undefined) {
    child.stdout?.on('data', (chunk: Buffer) => {
      output.push(chunk.toString())
      process.stdout.write(chunk)
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output.push(chunk.toString())
      process.stderr.write(chunk)
    })
  }
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  let next = 0
  const exited = new Promise<NodeJS.Signals | null>((resolve) => {
    child.once('exit', (_code, signal) => {
      for (const waiter of pending.values()) waiter.reject(new Error('worker exited'))
      resolve(signal)
    })
  })
  return new Promise((resolve, reject) => {
    child.once('exit', () =>
      reject(new Error(`worker ${config.executorId} exited before it was ready`)),
    )
    child.on(
      'message',
      (message: {
        ready?: boolean
        failed?: string
        id?: number
        result?: unknown
        error?: string
      }) => {
        if (message.failed !== undefined) {
          reject(new Error(message.failed))
          return
        }
        if (message.ready) {
          resolve({
            child,
            exited,
            send(command) {
              const id = next++
              return new Promise((resolveCall, rejectCall) => {
                pending.set(id, { resolve: resolveCall, reject: rejectCall })
                child.send({ id, command })
              })
            },
          })
          return
        }
        const waiter = message.id === undefined ? undefined : pending.get(message.id)
        if (waiter === undefined || message.id === undefined) return
        pending.delete(message.id)
        if (message.error !== undefined) waiter.reject(new Error(message.error))
        else waiter.resolve(message.result)
      },
    )
  })
}
