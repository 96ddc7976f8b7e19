import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The one-way rule of ARCHITECTURE.md, checked on the source: which layer may import which.
 * Files at the top of src/ (errors.ts, bytes.ts) are shared by all; index.ts may import anything.
 */
const MAY_IMPORT: Record<string, string[]> = {
  client: ['input', 'protocol', 'routing', 'store', 'platform', 'codec', 'transport'],
  shared: ['client', 'input', 'protocol', 'routing', 'codec', 'store'],
  input: ['protocol', 'store', 'codec', 'transport'],
  protocol: ['codec'],
  routing: ['codec'],
  store: ['codec'],
  platform: [],
  codec: [],
  transport: [],
}

const src = fileURLToPath(new URL('../../src', import.meta.url))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(full) : /\.(ts|cjs)$/.test(entry.name) ? [full] : []
  })
}

/** The layer of a file under src/, or undefined for the shared files at the top. */
const layerOf = (file: string) => {
  const parts = path.relative(src, file).split(path.sep)
  return parts.length > 1 ? parts[0] : undefined
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)].map((m) => path.resolve(path.dirname(file), m[1] as string))
}

describe('the layers of src/', () => {
  it('import only downward, as ARCHITECTURE.md says', () => {
    const wrong: string[] = []
    for (const file of sourceFiles(src)) {
      const from = layerOf(file)
      if (from === undefined) continue
      for (const target of relativeImports(file)) {
        const to = layerOf(target)
        if (to === undefined || to === from) continue
        if (!(MAY_IMPORT[from] ?? []).includes(to)) wrong.push(`${path.relative(src, file)} imports ${path.relative(src, target)}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('are exactly the folders the rule names', () => {
    const folders = readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)
    expect(folders.sort()).toEqual(Object.keys(MAY_IMPORT).sort())
  })
})
