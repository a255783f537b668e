// What the delivery-target tests share: two vendors' keys rotated to a set of targets by worker
// processes, the one table of places where a worker is killed inside a target step, and the
// kill-and-recover test played at each of them.
import type { WorkflowStatus } from '@dbos-inc/dbos-sdk'
import type { TargetPhase } from '@keyway/core'
import { expect, it } from 'vitest'
import { rotationWorkflowId, type TargetCheckpoint } from '../src/index.js'
import type { TestPostgres } from './embedded-postgres.js'
import { rotatableIds, storeOf, testSealingKey } from './fleet.js'
import { type Harness, startHarness, summaryOf, type TestWorkers, withWorkers } from './harness.js'
import type { WorkerConfig } from './worker.js'
import type { WorkerProcess } from './worker-process.js'

/** The two vendors whose keys are rotated, one key each. */
export const LABELS = ['openrouter', 'voiceable'] as const
export type Label = (typeof LABELS)[number]

export type TargetName = NonNullable<WorkerConfig['crashAtTarget']>['target']

/** Where a worker is killed: `before` the step is sent (journalled in flight), `after` it answered. */
export interface KillPoint {
  target: TargetName
  phase: TargetPhase
  when: 'before' | 'after'
}

/**
 * Every place a worker is killed inside a target step, for every target. The other worker
 * finishes the rotation; each target is written (and redeployed or restarted) once per key.
 *
 * - GitHub: after a write answered (before core journalled it); before a confirm.
 * - Vercel: before and after its write and its redeploy; after its confirm.
 * - AWS: after it answered a write (a resume sends the same client request token).
 * - Kubernetes: after a restart was sent (maybe before the other key's restart of the same
 *   Deployment); while waiting for the rollout.
 * - Vault: before its confirm.
 */
export const KILL_POINTS: readonly KillPoint[] = [
  { target: 'github', phase: 'write', when: 'after' },
  { target: 'vercel', phase: 'write', when: 'before' },
  { target: 'vercel', phase: 'write', when: 'after' },
  { target: 'vercel', phase: 'propagate', when: 'before' },
  { target: 'vercel', phase: 'propagate', when: 'after' },
  { target: 'vercel', phase: 'confirm', when: 'after' },
  { target: 'github', phase: 'confirm', when: 'before' },
  { target: 'aws', phase: 'write', when: 'after' },
  { target: 'kubernetes', phase: 'propagate', when: 'after' },
  { target: 'kubernetes', phase: 'confirm', when: 'before' },
  { target: 'vault', phase: 'confirm', when: 'before' },
]

/** The kill points of the targets named, in the table's order. */
export function killPointsOf(targets: readonly TargetName[]): KillPoint[] {
  return KILL_POINTS.filter((point) => targets.includes(point.target))
}

/** A harness with each label's old key, the stores and targets a worker gets, and its logs. */
export interface TargetSetup extends Harness {
  /** The old key of each label. */
  before: Record<Label, string>
  stores: WorkerConfig['stores']
  targets: NonNullable<WorkerConfig['targets']>
  sealingKey: string
  /** What every worker of the test printed. */
  logs: string[]
}

/** The harness with one key per label, read before anything runs. */
async function startTargetHarness(
  postgres: Pick<TestPostgres, 'url'>,
  database: string,
): Promise<Omit<TargetSetup, 'targets'>> {
  const harness = await startHarness(postgres, database, 1)
  const before = {} as TargetSetup['before']
  const stores: WorkerConfig['stores'] = {}
  for (const label of LABELS) {
    const [keyId] = await rotatableIds(storeOf(harness.fleet, label))
    before[label] = keyId as string
    stores[label] = { vendor: label, settings: harness.fleet[label].settings }
  }
  return { ...harness, before, stores, sealingKey: testSealingKey(), logs: [] }
}

export function workflowIdOf(label: string, keyId: string): string {
  return rotationWorkflowId('nightly', label, keyId)
}

/**
 * Enqueues each label's old key in batch `nightly`, to the targets `targets` names for the
 * label, or else to all of the key's targets.
 */
export async function enqueueAll(
  worker: WorkerProcess,
  setup: TargetSetup,
  targets: Partial<Record<Label, string[]>> = {},
): Promise<void> {
  for (const label of LABELS) {
    const named = targets[label]
    await worker.send({
      type: 'enqueue',
      batchId: 'nightly',
      label,
      keyIds: [setup.before[label]],
      ...(named === undefined ? {} : { targets: named }),
    })
  }
}

/** The checkpoints a rotation workflow recorded, by name. */
export async function stepNames(setup: Harness, workflowId: string): Promise<string[]> {
  const steps = (await setup.client.listWorkflowSteps(workflowId)) ?? []
  return steps.map((step) => step.name)
}

/**
 * Places where a secret could be stored in the clear: DBOS's workflow and step records,
 * keyway's journal and what the workers printed, as text. No secret, nor any 8 characters of
 * one in a row, may be there; and `sealed` new secrets are kept sealed for a resume.
 */
export async function expectNoSecretStored(
  setup: TargetSetup,
  secrets: readonly string[],
  sealed = 0,
): Promise<void> {
  const rows = await setup.db.query<{ text: string }>(
    `SELECT row_to_json(t)::text AS text FROM dbos.workflow_status t
     UNION ALL SELECT row_to_json(t)::text FROM dbos.operation_outputs t
     UNION ALL SELECT row_to_json(t)::text FROM keyway.rotations t`,
  )
  const text = [...rows.rows.map((row) => row.text), ...setup.logs].join('\n')
  expect(text.length).toBeGreaterThan(1000)
  const found: string[] = []
  for (const secret of secrets) {
    for (let at = 0; at + 8 <= secret.length; at++) {
      if (text.includes(secret.slice(at, at + 8)))
        found.push(`${secret.length}-character secret at ${at}`)
    }
  }
  expect(found).toEqual([])
  expect(await setup.leakedCredentials()).toEqual([])
  expect(await setup.sealedCount()).toBe(sealed)
}

/** The tests of one set of targets: how they are set up, and what a finished batch left there. */
export interface TargetSuiteOptions<Setup extends TargetSetup> {
  /** Names each test's database, with the test's own name. */
  database: string
  targets: readonly TargetName[]
  /** The checkpoints every rotation records, in order. */
  steps: readonly string[]
  /** Starts and seeds the targets' emulators beside `harness`; the setup's `close` ends them too. */
  setUp(harness: Omit<TargetSetup, 'targets'>): Promise<Setup>
  /**
   * Every target holds each key's one new secret, written once, and what keyway does not own
   * is untouched; the secrets.
   */
  expectDelivered(setup: Setup): Promise<string[]>
}

/** Running and checking the tests of one set of targets (see `TargetSuiteOptions`). */
export interface TargetSuite<Setup extends TargetSetup> {
  /**
   * Runs `test` on a fresh setup (database `<database>_<name>`) with the workers it starts on
   * the setup's stores, targets and sealing key (their logs collected); see `withWorkers`.
   */
  run(name: string, test: (setup: Setup, workers: TestWorkers) => Promise<void>): Promise<void>
  /**
   * Once the batch ended: every rotation succeeded, recorded each step and says every target
   * holds its new key, confirmed; the targets hold the new secrets (`expectDelivered`); no
   * secret is stored in the clear and none is left sealed. The runs.
   */
  expectFinished(setup: Setup): Promise<WorkflowStatus[]>
  /**
   * At each kill point of the targets: worker A is SIGKILLed inside that target step of one
   * rotation (its old key still live), worker B recovers A's workflows and finishes both, as
   * `expectFinished` says; the step cut off ran again on B, reopened from the journal.
   */
  itRecoversFromEachKill(): void
}

export function targetSuite<Setup extends TargetSetup>(
  postgres: Pick<TestPostgres, 'url'>,
  options: TargetSuiteOptions<Setup>,
): TargetSuite<Setup> {
  const suite: TargetSuite<Setup> = {
    async run(name, test) {
      const setup = await options.setUp(
        await startTargetHarness(postgres, `${options.database}_${name}`),
      )
      await withWorkers(
        setup,
        (workers) => test(setup, workers),
        { sealingKey: setup.sealingKey, stores: setup.stores, targets: setup.targets },
        setup.logs,
      )
    },
    async expectFinished(setup) {
      const runs = await setup.succeeded(LABELS.length)
      for (const run of runs) {
        expect(summaryOf(run)?.deliveries).toEqual(
          options.targets.map((target) =>
            expect.objectContaining({ target, holds: 'new', progress: 'confirmed' }),
          ),
        )
      }
      const secrets = await options.expectDelivered(setup)
      for (const label of LABELS) {
        expect(await stepNames(setup, workflowIdOf(label, setup.before[label]))).toEqual(
          options.steps,
        )
      }
      await expectNoSecretStored(setup, secrets)
      return runs
    },
    itRecoversFromEachKill() {
      it.each(killPointsOf(options.targets))(
        'a worker killed $when the $phase of $target: the other finishes, each target written once, the old key retired after every confirm',
        async (cut) => {
          await suite.run(`${cut.target}_${cut.phase}_${cut.when}`, async (setup, workers) => {
            const a = await workers.startDoomed('worker-a', { crashAtTarget: { ...cut, nth: 1 } })
            await enqueueAll(a, setup)
            const cutOff = await a.killed()
            // Nothing retired yet: the cut-off rotation had confirms to go.
            const cutLabels = LABELS.filter(
              (label) => workflowIdOf(label, setup.before[label]) === cutOff,
            )
            expect(cutLabels).toHaveLength(1)
            const label = cutLabels[0] as Label
            expect(await rotatableIds(storeOf(setup.fleet, label))).toContain(setup.before[label])
            const b = await workers.start('worker-b')
            await b.send({ type: 'recover', executorId: 'worker-a' })
            const runs = await suite.expectFinished(setup)
            // The step cut off was run again on worker B, opening the rotation from the journal.
            const steps = (await setup.client.listWorkflowSteps(cutOff)) ?? []
            const rerun = steps.find((step) => step.name === `${cut.phase} ${cut.target}`)
            expect((rerun?.output as TargetCheckpoint | undefined)?.reopened).toBe(true)
            expect(runs.find((run) => run.workflowID === cutOff)?.executorId).toBe('worker-b')
          })
        },
        120_000,
      )
    },
  }
  return suite
}
