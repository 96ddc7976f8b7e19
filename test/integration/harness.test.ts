import { execFileSync } from 'node:child_process'
import net from 'node:net'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { startAedesBroker } from '../harness/aedes-broker.js'
import { startMosquitto } from '../harness/mosquitto.js'

/** The listening addresses of a port, read from the kernel's socket table (no traffic sent). */
function listeners(port: number): string[] {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' })
  return out.split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)[3] as string)
}

async function roundTrip(url: string, protocolVersion: 4 | 5): Promise<string> {
  const sub = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0 })
  const pub = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0 })
  try {
    await sub.subscribeAsync('harness/check', { qos: 1 })
    const got = new Promise<string>((resolve) => sub.on('message', (_t, p) => resolve(p.toString())))
    await pub.publishAsync('harness/check', `v${protocolVersion}`, { qos: 1 })
    return await got
  } finally {
    await Promise.all([sub.endAsync(), pub.endAsync()])
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

describe('broker harness', () => {
  it('aedes over WebSocket carries a message between two MQTT.js clients, and close() frees its ports', async () => {
    const broker = await startAedesBroker({ port: 0, tcpPort: 0 })
    expect(await roundTrip(broker.url, 4)).toBe('v4')
    expect(listeners(broker.port)).toEqual([`127.0.0.1:${broker.port}`])
    await broker.close()
    expect(await portIsFree(broker.port)).toBe(true)
    expect(await portIsFree(broker.tcpPort as number)).toBe(true)
  })

  it('Mosquitto listens on loopback only, speaks 3.1.1 and 5.0 over WebSocket, and survives a restart', async () => {
    const broker = await startMosquitto()
    try {
      expect(listeners(broker.port)).toEqual([`127.0.0.1:${broker.port}`])
      expect(listeners(broker.tcpPort)).toEqual([`127.0.0.1:${broker.tcpPort}`])
      expect(await roundTrip(broker.url, 4)).toBe('v4')
      expect(await roundTrip(broker.url, 5)).toBe('v5')
      await broker.restart()
      expect(await roundTrip(broker.url, 4)).toBe('v4')
    } finally {
      await broker.close()
    }
    expect(await portIsFree(broker.port)).toBe(true)
  })
})
