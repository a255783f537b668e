import type { OpenRouterEmulatorControl } from '@keyway/testkit'

/**
 * Two workspaces beside the account's default one, Research and Staging, with one key each:
 * `research-1` and `staging-1`.
 */
export function seedTwoWorkspaces(control: OpenRouterEmulatorControl) {
  const research = control.seedWorkspace({ name: 'Research' }).id
  const staging = control.seedWorkspace({ name: 'Staging' }).id
  const inResearch = control.seedKey({ name: 'research-1', workspaceId: research })
  const inStaging = control.seedKey({ name: 'staging-1', workspaceId: staging })
  return { research, staging, inResearch, inStaging }
}
