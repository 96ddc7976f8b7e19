import { spawn } from 'node:child_process'
import { bundleSoak } from './bundle.js'

/**
 * `npm run soak [-- --seconds N --sample N]`: builds the soak (see bundle.js) and runs it in a
 * Node of its own, with --expose-gc so that every heap reading follows a full collection.
 * Default 600 s, sampled every 10 s; SOAK_SECONDS and SOAK_SAMPLE_SECONDS work too.
 */
const built = await bundleSoak({ cli: 'test/soak/cli.ts', infra: 'test/soak/infra.ts' }, 'cli')
const soak = spawn(process.execPath, ['--expose-gc', built.cli, ...process.argv.slice(2)], { stdio: 'inherit' })
soak.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
