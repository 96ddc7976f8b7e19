import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A folder of this run's own, where the first test that needs the packed package packs it. */
    runDir: string
  }
}

/**
 * One folder per integration run. The tests that install the packed package share one `npm pack`
 * through it (test/support/consumer.ts sharedTarball): packing builds dist/, and two builds at
 * once in two workers would empty dist/ under each other.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'ts-mqtt-ws-run-'))
  project.provide('runDir', runDir)
  return () => rm(runDir, { recursive: true, force: true })
}
