import { cp, readFile } from 'node:fs/promises'
import path from 'node:path'
import { installConsumer, repoRoot } from './consumer.js'

interface ExamplePackage {
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  [field: string]: unknown
}

/**
 * Copies `examples/<name>` to a fresh project and installs it as its README says, with one
 * change: ts-mqtt-ws comes from the packed tarball, not the registry. Its other dependencies are
 * installed at the ranges it names; its devDependencies (Vite) are left to the tests, which bring
 * the repository's own. So the examples are run as users get them and cannot rot.
 */
export async function installExample(name: string, tarball: string): Promise<string> {
  const source = path.join(repoRoot, 'examples', name)
  const { dependencies = {}, devDependencies: _brought, ...fields } = JSON.parse(
    await readFile(path.join(source, 'package.json'), 'utf8'),
  ) as ExamplePackage
  if (!('ts-mqtt-ws' in dependencies)) throw new Error(`examples/${name} does not depend on ts-mqtt-ws`)
  const others = Object.entries(dependencies)
    .filter(([dependency]) => dependency !== 'ts-mqtt-ws')
    .map(([dependency, range]) => `${dependency}@${range}`)
  const dir = await installConsumer(tarball, others, fields)
  const skipped = new Set(['package.json', 'node_modules', 'dist', 'ts-mqtt-ws.iife.js'])
  await cp(source, dir, { recursive: true, filter: (file) => file === source || !skipped.has(path.relative(source, file)) })
  return dir
}
