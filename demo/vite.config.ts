import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The demo imports the SDK by its package name, served straight from src/: what a Vite app
// does with the published package, with no polyfill plugin and no define.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: {
    alias: { 'ts-mqtt-ws': fileURLToPath(new URL('../src/index.ts', import.meta.url)) },
  },
  server: { port: 5173 },
  preview: { port: 4173 },
  build: { outDir: fileURLToPath(new URL('../dist/demo', import.meta.url)), emptyOutDir: true },
})
