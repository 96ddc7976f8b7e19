import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { generate, type Packet } from 'mqtt-packet'
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import { startAedesBroker } from '../support/aedes-broker.js'
import { startFakeBroker } from '../support/fake-broker.js'
import { startMosquitto } from '../support/mosquitto.js'
import { packetSplitter } from '../support/packet-splitter.js'
import { serveStatic } from '../support/static-server.js'
import { waitUntil } from '../support/wait.js'

/** The listening addresses of a port, read from the kernel's socket table (no traffic sent). */
function listeners(port: number): string[] {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' })
  return out.split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)[3] as string)
}

async function roundTrip(url: string, protocolVersion: 4 | 5): Promise<string> {
  const sub = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0 })
  const pub = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0 })
  try {
    await sub.subscribeAsync('support/check', { qos: 1 })
    const got = new Promise<string>((resolve) => sub.on('message', (_t, p) => resolve(p.toString())))
    await pub.publishAsync('support/check', `v${protocolVersion}`, { qos: 1 })
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

/** A bare WebSocket peer that sends the frames given, one by one, and collects what comes back. */
async function rawPeer(url: string): Promise<{ socket: WebSocket; received: Buffer[] }> {
  const socket = new WebSocket(url, 'mqtt')
  const received: Buffer[] = []
  socket.on('message', (data: Buffer) => received.push(data))
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  return { socket, received }
}

const CONNECT = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'support-check', clean: true, keepalive: 0 } as Packet)
const PINGREQ = generate({ cmd: 'pingreq' })

/** Status and body of a GET, with the path sent as written. */
function get(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base.replace(/\/$/, '')}${rawPath}`, (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      .on('error', reject)
  })
}

describe('the brokers the tests start', () => {
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

  it('aedes hands each WebSocket frame a client sends to onFrame, as the bench counts them', async () => {
    const frames: number[] = []
    const broker = await startAedesBroker({ port: 0, onFrame: (data) => frames.push(data.length) })
    try {
      const peer = await rawPeer(broker.url)
      peer.socket.send(CONNECT)
      await waitUntil(() => peer.received.length === 1)
      peer.socket.send(PINGREQ)
      await waitUntil(() => peer.received.length === 2)
      expect(frames).toEqual([CONNECT.length, PINGREQ.length])
      peer.socket.close()
    } finally {
      await broker.close()
    }
  })
})

describe('the scripted fake broker', () => {
  it('makes a script for each connection, which reads the path the client asked for', async () => {
    const broker = await startFakeBroker({
      script: (conn) => (packet) => {
        if (packet.cmd === 'connect') conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: false })
        if (packet.cmd === 'pingreq') conn.send(generate({ cmd: 'publish', topic: 'path', payload: Buffer.from(conn.path), qos: 0, retain: false, dup: false }))
      },
    })
    try {
      const peers = await Promise.all([rawPeer(`${broker.url}/one`), rawPeer(`${broker.url}/two/2`)])
      for (const peer of peers) peer.socket.send(Buffer.concat([CONNECT, PINGREQ]))
      await waitUntil(() => peers.every((peer) => peer.received.length === 2))
      // The payload follows the fixed header (2 bytes) and the topic (2 + 4).
      expect(peers.map((peer) => peer.received[1]?.subarray(8).toString())).toEqual(['/one', '/two/2'])
    } finally {
      await broker.close()
    }
  })

  it('with keep: false counts frames and bytes without keeping them, and forgets closed connections', async () => {
    const broker = await startFakeBroker({ keep: false })
    try {
      const peer = await rawPeer(broker.url)
      peer.socket.send(CONNECT)
      peer.socket.send(PINGREQ)
      await waitUntil(() => broker.connections[0]?.received.frames === 2)
      const conn = broker.connections[0]
      expect(conn?.received).toEqual({ frames: 2, bytes: CONNECT.length + PINGREQ.length })
      expect(conn?.frames).toEqual([])
      expect(conn?.packets).toEqual([])
      peer.socket.close()
      await waitUntil(() => broker.connections.length === 0)
    } finally {
      await broker.close()
    }
  })
})

describe('the static file server', () => {
  it('serves its folder, index.html at /, nothing outside it, and with `only` nothing else', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'static-'))
    const site = path.join(parent, 'site')
    await mkdir(path.join(site, 'open'), { recursive: true })
    await writeFile(path.join(site, 'index.html'), 'home')
    await writeFile(path.join(site, 'open', 'a.js'), 'a')
    await writeFile(path.join(site, 'closed.js'), 'closed')
    await writeFile(path.join(parent, 'secret.txt'), 'secret')
    const all = await serveStatic(site)
    const some = await serveStatic(site, { only: ['open/'] })
    try {
      expect(await get(all.url, '/')).toEqual({ status: 200, body: 'home' })
      expect(await get(all.url, '/closed.js')).toEqual({ status: 200, body: 'closed' })
      expect((await get(all.url, '/missing.js')).status).toBe(404)
      expect((await get(all.url, '/..%2fsecret.txt')).status).toBe(403)
      expect(await get(some.url, '/open/a.js')).toEqual({ status: 200, body: 'a' })
      expect((await get(some.url, '/closed.js')).status).toBe(404)
      expect((await get(some.url, '/..%2fsecret.txt')).status).toBe(403)
    } finally {
      await Promise.all([all.close(), some.close()])
      await rm(parent, { recursive: true, force: true })
    }
  })
})

describe('the packet splitter', () => {
  const publish = (payloadBytes: number) =>
    generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(payloadBytes, 7), qos: 0, retain: false, dup: false } as Packet)
  // Remaining lengths of one, two and three bytes.
  const stream = Buffer.concat([CONNECT, publish(10), publish(200), PINGREQ, publish(20_000)])
  const expected = [
    [1, CONNECT.length],
    [3, publish(10).length],
    [3, publish(200).length],
    [12, PINGREQ.length],
    [3, publish(20_000).length],
  ]

  it('hands over each whole packet once, however the bytes are cut into chunks', () => {
    for (const size of [1, 2, 3, 7, 100, stream.length]) {
      const got: Array<[number, number]> = []
      const feed = packetSplitter((type, packet) => got.push([type, packet.length]))
      for (let at = 0; at < stream.length; at += size) feed(stream.subarray(at, at + size))
      expect(got, `chunks of ${size}`).toEqual(expected)
    }
  })

  it('hands over the exact bytes of each packet', () => {
    const got: Buffer[] = []
    packetSplitter((_type, packet) => got.push(Buffer.from(packet)))(stream)
    expect(Buffer.concat(got).equals(stream)).toBe(true)
  })

  it('refuses a remaining length longer than four bytes', () => {
    const feed = packetSplitter(() => undefined)
    expect(() => feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/remaining length/)
  })
})
