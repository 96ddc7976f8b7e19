import { fileURLToPath } from 'node:url'
import { build } from 'vite'

/**
 * Compiles the soak's TypeScript entries (and the src/ and test/support/ code they import) into
 * plain ES modules that `node --expose-gc` runs as they are: Node 20 runs no TypeScript, and the
 * soak wants a process of its own, with nothing but the clients in its heap. Packages stay
 * imports (a server-side build leaves node_modules to Node), so the client's codec runs on
 * mqtt-packet as in the tests. The output goes under node_modules/.cache, which git ignores.
 *
 * @param {Record<string, string>} entries output name -> entry file, relative to the repository
 * @param {string} folder a folder of the caller's own, so a CI run and `npm run soak` never share one
 * @returns {Promise<Record<string, string>>} output name -> the built file's absolute path
 */
export async function bundleSoak(entries, folder) {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const outDir = fileURLToPath(new URL(`../../node_modules/.cache/ts-mqtt-ws-soak/${folder}`, import.meta.url))
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    build: {
      ssr: true,
      outDir,
      emptyOutDir: true,
      minify: false,
      sourcemap: false,
      rollupOptions: {
        input: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, `${root}/${file}`])),
        output: { format: 'esm', entryFileNames: '[name].mjs' },
      },
    },
  })
  return Object.fromEntries(Object.keys(entries).map((name) => [name, `${outDir}/${name}.mjs`]))
}
