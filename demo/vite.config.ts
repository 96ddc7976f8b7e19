import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Plugin, defineConfig } from 'vite'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const iife = here('../dist/ts-mqtt-ws.iife.js')

/**
 * script-tag.html loads the package's IIFE build as a plain page would: served from dist/ in
 * development and preview, and copied next to the pages in a production build.
 */
function scriptTagBuild(): Plugin {
  const read = () => {
    if (!existsSync(iife)) throw new Error('dist/ts-mqtt-ws.iife.js is missing: run `npm run build` first')
    return readFileSync(iife)
  }
  return {
    name: 'ts-mqtt-ws:script-tag-build',
    configureServer(server) {
      server.middlewares.use('/ts-mqtt-ws.iife.js', (_req, res) => {
        res.setHeader('Content-Type', 'text/javascript')
        res.end(read())
      })
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'ts-mqtt-ws.iife.js', source: read() })
    },
  }
}

// The demo imports the SDK by its package name, served straight from src/, as the package ships
// it: no polyfill plugin and no define.
export default defineConfig({
  root: here('.'),
  plugins: [scriptTagBuild()],
  resolve: {
    alias: { 'ts-mqtt-ws': here('../src/index.ts') },
  },
  server: { port: 5173 },
  preview: { port: 4173 },
  build: {
    outDir: here('../dist/demo'),
    emptyOutDir: true,
    rollupOptions: { input: { main: here('index.html'), scriptTag: here('script-tag.html') } },
  },
})
