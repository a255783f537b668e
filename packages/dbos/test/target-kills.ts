// What the delivery-target tests share: two vendors' keys rotated to a set of targets by worker
// processes, the one table of places where a worker is killed inside a target step, and the
// kill-and-recover test played at each of them.
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TargetPhase } from '@keyway/core'
import { expect, it } from 'vitest'
import {
  ROTATION_WORKFLOW_PREFIX,
  rotationWorkflowId,
  type TargetCheckpoint,
} from '../src/index.js'
import type { TestPostgres } from './embedded-postgres.js'
import { rotatableIds, storeOf, testSealingKey } from './fleet.js'
import { type Harness, leakedCredentials, startHarness, waitForEnded } from './harness.js'
import type { WorkerConfig } from './worker.js'
import { startWorker, type WorkerProcess } from './worker-process.js'

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
export async function startTargetHarness(
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

/** A worker process on the setup's database, stores, targets and sealing key. */
export function startTargetWorker(
  setup: TargetSetup,
  executorId: string,
  extra: Partial<WorkerConfig> = {},
): Promise<WorkerProcess> {
  return startWorker(
    {
      executorId,
      databaseUrl: setup.url,
      sealingKey: setup.sealingKey,
      stores: setup.stores,
      targets: setup.targets,
      ...extra,
    },
    setup.logs,
  )
}

export function workflowIdOf(label: string, keyId: string): string {
  return rotationWorkflowId('nightly', label, keyId)
}

/** Enqueues each label's old key in batch `nightly`. */
export async function enqueueAll(worker: WorkerProcess, setup: TargetSetup): Promise<void> {
  for (const label of LABELS) {
    await worker.send({ type: 'enqueue', batchId: 'nightly', label, keyIds: [setup.before[label]] })
  }
}

/** The rotations of batch `nightly` once all have ended, each expected to have succeeded. */
export async function succeededRuns(setup: TargetSetup) {
  await waitForEnded(setup.client, `${ROTATION_WORKFLOW_PREFIX}nightly/`, LABELS.length)
  const runs = await setup.client.listWorkflows({ workflow_id_prefix: ROTATION_WORKFLOW_PREFIX })
  expect(runs.map((run) => run.status)).toEqual(LABELS.map(() => 'SUCCESS'))
  return runs
}

/** The checkpoints a rotation workflow recorded, by name. */
export async function stepNames(setup: Harness, workflowId: string): Promise<string[]> {
  const steps = (await setup.client.listWorkflowSteps(workflowId)) ?? []
  return steps.map((step) => step.name)
}

/** Each label's rotation recorded `steps`, in that order. */
export async function expectEveryStep(setup: TargetSetup, steps: readonly string[]) {
  for (const label of LABELS) {
    expect(await stepNames(setup, workflowIdOf(label, setup.before[label]))).toEqual(steps)
  }
}

/** Each run's output says every target of `targets` holds the new key, confirmed. */
export function expectConfirmedAt(
  runs: ReadonlyArray<{ output?: unknown }>,
  targets: readonly TargetName[],
): void {
  for (const run of runs) {
    expect((run.output as { deliveries?: unknown[] } | undefined)?.deliveries).toEqual(
      targets.map((target) =>
        expect.objectContaining({ target, holds: 'new', progress: 'confirmed' }),
      ),
    )
  }
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
  expect(await leakedCredentials(setup)).toEqual([])
  const held = await setup.db.query('SELECT count(*)::int AS n FROM keyway.sealed_secrets')
  expect(held.rows[0].n).toBe(sealed)
}

/**
 * At each kill point: worker A is SIGKILLed inside that target step of one rotation (its old
 * key still live), worker B recovers A's workflows and finishes both; `expectDelivered` checks
 * every target holds each key's one new secret, written once, and returns the secrets; every
 * rotation recorded `steps`; the step cut off ran again on B, reopened from the journal; no
 * secret is stored in the clear and none is left sealed.
 */
export function itRecoversFromEachKill<Setup extends TargetSetup>(options: {
  /** Names the test's database, with the kill point. */
  database: string
  points: readonly KillPoint[]
  steps: readonly string[]
  setUp(database: string): Promise<Setup>
  expectDelivered(setup: Setup): Promise<string[]>
}): void {
  it.each(options.points)(
    'a worker killed $when the $phase of $target: the other finishes, each target written once, the old key retired after every confirm',
    async (cut) => {
      const setup = await options.setUp(
        `${options.database}_${cut.target}_${cut.phase}_${cut.when}`,
      )
      let b: WorkerProcess | undefined
      try {
        const crashNote = join(await mkdtemp(join(tmpdir(), 'keyway-crash-')), 'rotation-id')
        const a = await startTargetWorker(setup, 'worker-a', {
          crashAtTarget: { ...cut, nth: 1 },
          crashNote,
        })
        await enqueueAll(a, setup)
        expect(await a.exited).toBe('SIGKILL')
        const cutOff = await readFile(crashNote, 'utf8')
        // Nothing retired yet: the cut-off rotation had confirms to go.
        const cutLabels = LABELS.filter(
          (label) => workflowIdOf(label, setup.before[label]) === cutOff,
        )
        expect(cutLabels).toHaveLength(1)
        const label = cutLabels[0] as Label
        expect(await rotatableIds(storeOf(setup.fleet, label))).toContain(setup.before[label])
        b = await startTargetWorker(setup, 'worker-b')
        await b.send({ type: 'recover', executorId: 'worker-a' })
        const runs = await succeededRuns(setup)
        const secrets = await options.expectDelivered(setup)
        await expectEveryStep(setup, options.steps)
        // The step cut off was run again on worker B, opening the rotation from the journal.
        const steps = (await setup.client.listWorkflowSteps(cutOff)) ?? []
        const rerun = steps.find((step) => step.name === `${cut.phase} ${cut.target}`)
        expect((rerun?.output as TargetCheckpoint | undefined)?.reopened).toBe(true)
        expect(runs.find((run) => run.workflowID === cutOff)?.executorId).toBe('worker-b')
        await expectNoSecretStored(setup, secrets)
      } finally {
        await b?.send({ type: 'stop' }).catch(() => {})
        await setup.close()
      }
    },
    120_000,
  )
}
