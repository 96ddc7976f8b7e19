import { execFile } from 'node:child_process'
import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/**
 * `npm pack` of this repo (its prepack script builds dist/), into a fresh temp folder. Consumers
 * install this tarball, so what they test is what the registry would serve.
 */
export async function packTarball(): Promise<string> {
  const dest = await mkdtemp(path.join(os.tmpdir(), 'ts-mqtt-ws-pack-'))
  await run('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 })
  const [file] = (await readdir(dest)).filter((f) => f.endsWith('.tgz'))
  if (!file) throw new Error('npm pack wrote no tarball')
  return path.join(dest, file)
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
