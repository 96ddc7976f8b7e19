import { describe, expect, it } from 'vitest'
import { bundleSoak } from '../soak/bundle.js'
import { runSoak } from '../soak/soak.js'

/**
 * The soak of `npm run soak` (test/soak/soak.ts), shortened for CI: 30 s of QoS 0/1/2 traffic
 * between two of our clients through aedes, each behind a proxy that cuts its connections about
 * every 3 s, sampled every 5 s. It runs here inside the test process (the broker and proxies in
 * a child process, as in the long run), so its heap readings include vitest's own; the long run
 * gets a process to itself.
 */
describe('the soak, for 30 s', () => {
  it('keeps heap, timers, sockets, handles and listeners flat, rejects no publish, and loses no QoS 1/2 message it had, delivering each within what the wire allows', { timeout: 240_000 }, async () => {
    const { infra } = await bundleSoak({ infra: 'test/soak/infra.ts' }, 'ci')
    // The table is printed in one piece at the end, rather than a line at a time between vitest's headers.
    const lines: string[] = []
    let report
    try {
      report = await runSoak({ seconds: 30, sampleSeconds: 5, infraScript: infra as string, log: (line) => lines.push(line) })
    } finally {
      console.log(lines.join('\n'))
    }
    expect(report.failures).toEqual([])
    expect(report.samples).toHaveLength(6)
    // The traffic and the faults were real: every QoS flowed both ways, and both clients were cut and came back.
    for (const qos of [0, 1, 2] as const) expect(report.sent[qos]).toBeGreaterThan(500)
    for (const side of ['a', 'b'] as const) {
      expect(report.cuts[side]).toBeGreaterThan(0)
      expect(report.reconnects[side]).toBeGreaterThan(0)
      expect(report.audits[side].expected).toBeGreaterThan(0)
    }
  })
})
