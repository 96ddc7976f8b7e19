import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { installConsumer, repoRoot, sharedTarball } from '../support/consumer.js'

const run = promisify(execFile)
const attw = path.join(repoRoot, 'node_modules/.bin/attw')
const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc')

// The types of the packed package as TypeScript users get them: @arethetypeswrong/cli's verdict
// on the tarball, and consumers of the installed tarball compiled in each module mode. Each
// consumer uses the types for real and holds one line that must not compile, so `any` types
// (or no types at all) cannot pass.
const consumerSource = `import { connect, InvalidArgumentError, MqttClient, MqttError, type MqttErrorCode, type PublishOptions } from 'ts-mqtt-ws'

const client: MqttClient = connect('ws://127.0.0.1:1883', { clientId: 'types', reconnect: false })
const options: PublishOptions = { qos: 1, retain: true }

export async function send(): Promise<void> {
  const result = await client.publish('a/topic', 'hello', options)
  void result
  await client.subscribe('a/#', { qos: 2 })
}

export function codeOf(err: unknown): MqttErrorCode | undefined {
  if (err instanceof InvalidArgumentError) {
    const code: 'INVALID_ARGUMENT' = err.code
    return code
  }
  return err instanceof MqttError ? err.code : undefined
}

// @ts-expect-error QoS 3 does not exist
export const wrong: PublishOptions = { qos: 3 }
`

// A page that loads the script-tag build and reaches the API through its global.
const scriptTagSource = `/// <reference types="ts-mqtt-ws/iife" />
const pageClient: import('ts-mqtt-ws').MqttClient = TsMqttWs.connect('ws://127.0.0.1:1883')
void pageClient.publish('a/topic', 'from a page', { qos: 0 })
// @ts-expect-error the global has no such export
TsMqttWs.notAnExport()
`

const compilerOptions = {
  strict: true,
  noEmit: true,
  target: 'ES2022',
  lib: ['ES2022', 'DOM'],
  types: [],
  // Our declarations are checked too; TypeScript's own lib files are not (they take seconds).
  skipLibCheck: false,
  skipDefaultLibCheck: true,
}

/** name -> [file, extra compiler options, the declaration file TypeScript must have read]. */
const consumers = {
  'a CommonJS file under module node16': ['cjs/consumer.cts', { module: 'node16', moduleResolution: 'node16' }, 'dist/index.d.cts'],
  'an ES module file under module node16': ['esm/consumer.mts', { module: 'node16', moduleResolution: 'node16' }, 'dist/index.d.ts'],
  'a file under moduleResolution bundler': ['bundler/consumer.ts', { module: 'esnext', moduleResolution: 'bundler' }, 'dist/index.d.ts'],
  'a script-tag page, CommonJS under node16': ['page-cjs/page.ts', { module: 'node16', moduleResolution: 'node16' }, 'dist/iife.d.cts'],
  'a script-tag page under moduleResolution bundler': ['page-bundler/page.ts', { module: 'esnext', moduleResolution: 'bundler' }, 'dist/iife.d.ts'],
} as const

let tarball: string
let dir: string

beforeAll(async () => {
  tarball = await sharedTarball(inject('runDir'))
  // No "type": "module": under node16 its .ts files are CommonJS, its .cts always, its .mts never.
  dir = await installConsumer(tarball)
  for (const [file, options] of Object.values(consumers)) {
    const project = path.dirname(file)
    await mkdir(path.join(dir, project), { recursive: true })
    await writeFile(path.join(dir, file), file.includes('page') ? scriptTagSource : consumerSource)
    const tsconfig = { compilerOptions: { ...compilerOptions, ...options }, files: [path.basename(file)] }
    await writeFile(path.join(dir, project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
  }
}, 180_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

interface AttwReport {
  analysis: { entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> }
  problems: Record<string, unknown[]>
}

describe('the types of the packed package', () => {
  it('draw no problem from @arethetypeswrong/cli in node10, node16 (CJS and ESM) and bundler resolution', async () => {
    // --no-definitely-typed: the package ships its types, and the check stays off the network.
    const { stdout } = await run(attw, [tarball, '--format', 'json', '--profile', 'strict', '--no-definitely-typed'], {
      maxBuffer: 64 * 1024 * 1024,
    }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
    const report = JSON.parse(stdout) as AttwReport
    expect(Object.values(report.problems).flat()).toEqual([])
    const resolved = (entry: string) =>
      Object.fromEntries(Object.entries(report.analysis.entrypoints[entry]?.resolutions ?? {}).map(([mode, r]) => [mode, r.resolution?.fileName]))
    expect(resolved('.')).toEqual({
      node10: '/node_modules/ts-mqtt-ws/dist/index.d.cts',
      'node16-cjs': '/node_modules/ts-mqtt-ws/dist/index.d.cts',
      'node16-esm': '/node_modules/ts-mqtt-ws/dist/index.d.ts',
      bundler: '/node_modules/ts-mqtt-ws/dist/index.d.ts',
    })
    expect(resolved('./iife')).toEqual({
      node10: '/node_modules/ts-mqtt-ws/dist/iife.d.cts',
      'node16-cjs': '/node_modules/ts-mqtt-ws/dist/iife.d.cts',
      'node16-esm': '/node_modules/ts-mqtt-ws/dist/iife.d.ts',
      bundler: '/node_modules/ts-mqtt-ws/dist/iife.d.ts',
    })
  }, 120_000)

  it.each(Object.entries(consumers))('compile in %s (strict), from the declarations of its module format', async (_, [file, , declarations]) => {
    const result = await run('node', [tsc, '-p', path.dirname(file), '--listFiles'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }),
    )
    const lines = result.stdout.split('\n')
    // --listFiles prints absolute paths; anything else tsc says is a diagnostic.
    expect(lines.filter((line) => line !== '' && !line.startsWith('/'))).toEqual([])
    expect(lines).toContain(path.join(dir, 'node_modules/ts-mqtt-ws', declarations))
  }, 120_000)
})
