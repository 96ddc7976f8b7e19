import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/**
 * `npm pack` of this repo (its prepack script builds dist/), into `dest` or a fresh temp folder. Consumers
 * install this tarball, so what they test is what the registry would serve.
 */
export async function packTarball(dest?: string): Promise<string> {
  dest ??= await mkdtemp(path.join(os.tmpdir(), 'ts-mqtt-ws-pack-'))
  await run('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 })
  const [file] = (await readdir(dest)).filter((f) => f.endsWith('.tgz'))
  if (!file) throw new Error('npm pack wrote no tarball')
  return path.join(dest, file)
}

/**
 * The packed package, packed once per test run however many test files ask, in `runDir` (the
 * integration project provides one): the first caller packs, the others wait for its tarball.
 * Packing builds dist/, so two packs at once would empty it under each other. The tarball is the
 * run's: callers do not delete it.
 */
export async function sharedTarball(runDir: string): Promise<string> {
  const done = path.join(runDir, 'tarball.json')
  try {
    await mkdir(path.join(runDir, 'packing'))
  } catch {
    return waitForTarball(done)
  }
  let outcome: { tarball?: string; error?: string }
  try {
    outcome = { tarball: await packTarball(runDir) }
  } catch (err) {
    outcome = { error: err instanceof Error ? err.message : String(err) }
  }
  await writeFile(done, JSON.stringify(outcome))
  if (outcome.error !== undefined) throw new Error(`npm pack failed: ${outcome.error}`)
  return outcome.tarball as string
}

async function waitForTarball(done: string): Promise<string> {
  const deadline = Date.now() + 5 * 60_000
  while (Date.now() < deadline) {
    const text = await readFile(done, 'utf8').catch(() => undefined)
    if (text !== undefined) {
      const outcome = JSON.parse(text) as { tarball?: string; error?: string }
      if (outcome.error !== undefined) throw new Error(`npm pack failed in another test file: ${outcome.error}`)
      return outcome.tarball as string
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error('waited 5 minutes for another test file to pack the package')
}

/**
 * A throwaway project with the tarball installed, plus `extra` packages. Our package comes from
 * the tarball, never the registry; its dependencies come from npm's cache when it has them.
 */
export async function installConsumer(tarball: string, extra: string[] = [], packageJson: object = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ts-mqtt-ws-consumer-'))
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, ...packageJson }, null, 2))
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', tarball, ...extra],
    { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
  )
  return dir
}
