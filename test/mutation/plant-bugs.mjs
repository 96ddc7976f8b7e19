#!/usr/bin/env node
// `npm run mutate:e2e [-- name ...] [-- --no-control]`: plants each bug of planted-bugs.mjs in a
// fresh copy of the repository (node_modules linked, not copied), runs the one test file that
// must catch it, and reports caught or missed. First, each test runs once on an unplanted copy:
// a test that fails without the bug proves nothing when it fails with it.
//
// Exits 1 when a bug is missed, cannot be planted, or a control run fails. Every run is bounded
// in time; the copies are removed afterwards. Logs: reports/planted-bugs/<bug>--<test>.log.
import { spawn, execFileSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bugs } from './planted-bugs.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const logDir = path.join(root, 'reports', 'planted-bugs')
const RUN_TIMEOUT_MS = 6 * 60_000

const args = process.argv.slice(2)
const control = !args.includes('--no-control')
const only = args.filter((a) => !a.startsWith('--'))
const chosen = only.length ? bugs.filter((b) => only.some((name) => b.name.includes(name))) : bugs
if (chosen.length === 0) {
  console.error(`no planted bug matches ${only.join(', ')}; known: ${bugs.map((b) => b.name).join(', ')}`)
  process.exit(2)
}

/** Tracked files and new ones git does not ignore: what a fresh clone plus the work in hand holds. */
function sourceFiles() {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root })
  return out.toString('utf8').split('\0').filter(Boolean)
}

async function copyOfRepo(files) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ts-mqtt-ws-planted-'))
  for (const file of files) {
    // A file deleted in the work tree but still tracked is simply left out.
    await cp(path.join(root, file), path.join(dir, file), { recursive: false }).catch((err) => {
      if (err.code !== 'ENOENT') throw err
    })
  }
  await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  return dir
}

/** Applies a bug's edits to the copy; returns why it cannot, or undefined. */
async function plant(dir, bug) {
  for (const edit of bug.edits) {
    const file = path.join(dir, edit.file)
    const text = await readFile(file, 'utf8').catch(() => undefined)
    if (text === undefined) return `${edit.file} does not exist`
    const count = text.split(edit.find).length - 1
    if (count === 0) return `${edit.file} no longer contains: ${edit.find}`
    if (count > 1 && !edit.all) return `${edit.file} contains ${count} times: ${edit.find}`
    await writeFile(file, text.split(edit.find).join(edit.replace))
  }
  return undefined
}

function command(check) {
  return check.runner === 'vitest'
    ? ['npx', ['vitest', 'run', '--project', 'integration', check.file, '-t', check.grep]]
    : ['npx', ['playwright', 'test', check.file, '-g', check.grep]]
}

const label = (check) => `${path.basename(check.file)} "${check.grep}"`

/** Runs one test command in `dir`; resolves to its exit status ('timeout' when it ran too long). */
function runCheck(dir, check, logName) {
  const [cmd, argv] = command(check)
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(cmd, argv, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' } })
    const chunks = []
    child.stdout.on('data', (c) => chunks.push(c))
    child.stderr.on('data', (c) => chunks.push(c))
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, RUN_TIMEOUT_MS)
    child.on('close', async (code, signal) => {
      clearTimeout(timer)
      await writeFile(path.join(logDir, `${logName}.log`), Buffer.concat(chunks))
      const seconds = Math.round((Date.now() - started) / 1000)
      resolve({ status: signal ? 'timeout' : code === 0 ? 'passed' : 'failed', seconds })
    })
  })
}

/** A filter that matched no test passes vacuously: only a run that reports a test passed or failed counts. */
async function ranSomething(logName) {
  const log = (await readFile(path.join(logDir, `${logName}.log`), 'utf8')).replace(/\x1b\[[0-9;]*m/g, '')
  return /\b[1-9]\d* (?:passed|failed)\b/.test(log)
}

const slug = (s) => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()

async function main() {
  await mkdir(logDir, { recursive: true })
  const files = sourceFiles()
  const rows = []
  let ok = true

  const checks = new Map()
  for (const bug of chosen) for (const check of bug.caughtBy) checks.set(label(check), check)
  const controlBroken = new Set()
  if (control) {
    const dir = await copyOfRepo(files)
    try {
      for (const [name, check] of checks) {
        const logName = `control--${slug(name)}`
        const result = await runCheck(dir, check, logName)
        const empty = !(await ranSomething(logName))
        console.log(`control ${name}: ${result.status}${empty ? ' (no test ran)' : ''} in ${result.seconds} s`)
        if (result.status !== 'passed' || empty) controlBroken.add(name)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  for (const bug of chosen) {
    const dir = await copyOfRepo(files)
    try {
      const why = await plant(dir, bug)
      if (why) {
        ok = false
        rows.push([bug.name, bug.about, '-', `CANNOT PLANT: ${why}`])
        console.log(`${bug.name}: cannot plant: ${why}`)
        continue
      }
      for (const check of bug.caughtBy) {
        const name = label(check)
        if (controlBroken.has(name)) {
          ok = false
          rows.push([bug.name, bug.about, name, 'INVALID: fails, or runs no test, without the bug'])
          continue
        }
        const logName = `${bug.name}--${slug(name)}`
        const result = await runCheck(dir, check, logName)
        const empty = !(await ranSomething(logName))
        const verdict = empty ? 'INVALID: no test ran (see its log)' : result.status === 'passed' ? 'MISSED' : `caught (${result.status})`
        if (!verdict.startsWith('caught')) ok = false
        rows.push([bug.name, bug.about, name, `${verdict}, ${result.seconds} s`])
        console.log(`${bug.name} x ${name}: ${verdict} in ${result.seconds} s`)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  const table = [
    '| planted bug | what it does | test | result |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`),
  ].join('\n')
  await writeFile(path.join(logDir, 'summary.md'), `${table}\n`)
  console.log(`\n${table}\n\nlogs: ${path.relative(root, logDir)}/`)
  process.exit(ok ? 0 : 1)
}

await main()
