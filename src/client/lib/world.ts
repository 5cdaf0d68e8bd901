/**
 * The outside world a site's command talks to — commands, the environment, the clock, the
 * terminal — passed in whole, so tests drive whole runs and the code touches nothing else.
 */
import type { CommandRunner } from "./run-command.ts"

export interface SiteWorld {
  run: CommandRunner
  env: Record<string, string | undefined>
  now: () => Date
  sleep: (ms: number) => Promise<void>
  stdout: (text: string) => void
  stderr: (text: string) => void
}
