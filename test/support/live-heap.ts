import v8 from 'node:v8'
import vm from 'node:vm'

/**
 * What the JavaScript heap holds, for leak checks. `heapUsed` alone is too coarse: over a few
 * hundred reconnects V8 keeps compiling (optimised code, deoptimisation data, feedback vectors),
 * which added about 1 MiB in runs against the in-process aedes broker, and would hide a leak of a
 * few KB per cycle. A heap snapshot tells those apart: only the program's own values (objects,
 * closures, arrays, strings, numbers and native buffers) are counted here.
 */
export interface LiveHeap {
  /** How many of the program's values are reachable. */
  values: number
  /** Of those, how many are not strings (V8 keeps and drops strings of its own accord). */
  objects: number
  /** Their own sizes, in bytes. */
  bytes: number
  /** process.memoryUsage().heapUsed after a full collection, compiled code included: for the log. */
  heapUsed: number
}

/** V8 gives `gc` only to code run with --expose-gc; a context made after setting the flag has it. */
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** A full collection, so that a reading of process.memoryUsage() counts only what is reachable. */
export function collectGarbage(): void {
  gc()
}

const PROGRAM_VALUES = new Set(['object', 'closure', 'array', 'string', 'concatenated string', 'sliced string', 'number', 'native', 'regexp', 'bigint', 'symbol'])

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
}

/** Collects garbage, then counts what is still reachable (a snapshot only holds reachable values). */
export async function liveHeap(): Promise<LiveHeap> {
  gc()
  const heapUsed = process.memoryUsage().heapUsed
  const chunks: Buffer[] = []
  for await (const chunk of v8.getHeapSnapshot()) chunks.push(chunk as Buffer)
  const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8')) as HeapSnapshot
  const { node_fields: fields, node_types: nodeTypes } = snapshot.snapshot.meta
  const types = nodeTypes[0]
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const sizeAt = fields.indexOf('self_size')
  let values = 0
  let objects = 0
  let bytes = 0
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt] as number] as string
    if (!PROGRAM_VALUES.has(type)) continue
    values++
    if (!type.includes('string')) objects++
    bytes += snapshot.nodes[i + sizeAt] as number
  }
  return { values, objects, bytes, heapUsed }
}
