// Writes a CommonJS twin (.d.cts) of every declaration tsc emitted into dist/.
//
// Why: the package is "type": "module", so TypeScript reads every dist/**/*.d.ts as ESM. A
// CommonJS consumer compiled with module node16/nodenext that require()s the package was handed
// those ESM types and failed with TS1479, although dist/ts-mqtt-ws.cjs is real CommonJS. The
// "require" condition of package.json "exports" points at these .d.cts files instead.
//
// Why a copy and not a bundle: tsc cannot bundle declarations of ES modules into one file, and a
// bundler for them would be a new dependency. The declarations hold no code, only types, so the
// same text describes both builds; the one change is that a relative './x.js' becomes './x.cjs',
// so a .d.cts file imports its .d.cts neighbours and the whole CommonJS view stays CommonJS.
// The tests hold this to account: @arethetypeswrong/cli on the packed tarball, and TypeScript
// consumers compiled in each module mode (test/integration/package-types.test.ts).
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = fileURLToPath(new URL('../dist', import.meta.url))

/** A relative specifier ending in .js, in quotes: `from './x.js'`, `import('../y/z.js')`. */
const relativeJs = /(['"])(\.{1,2}\/[^'"]*)\.js\1/g

const declarations = (await readdir(dist, { recursive: true })).filter((file) => file.endsWith('.d.ts'))
if (declarations.length === 0) throw new Error('dist/ holds no .d.ts files: run tsc -p tsconfig.build.json first')

for (const file of declarations) {
  const text = await readFile(path.join(dist, file), 'utf8')
  await writeFile(path.join(dist, file.replace(/\.d\.ts$/, '.d.cts')), text.replace(relativeJs, '$1$2.cjs$1'))
}
