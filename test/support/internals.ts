import type { MqttClient } from '../../src/index.js'

/**
 * The sizes of what a client keeps per message, operation or subscription. These are private
 * fields, read here and nowhere else, so that a restructure of the client has one place to
 * update. Every entry should return to its resting size once traffic settles: growth across
 * reconnects is a leak.
 */
export interface ClientHoldings {
  /** Operations whose Promise has not settled: every one is queued or in flight. */
  pendingOps: number
  /** Filters in the router, exact and wildcard. */
  routes: number
  /** Packets sent and awaiting acknowledgement; the in-flight table is also the table of packet ids in use. */
  inflight: number
  /** Operations waiting to be sent. */
  queued: number
  /** Incoming QoS 2 ids delivered and awaiting PUBREL. */
  incomingQos2: number
  /** Messages in the client's store. */
  stored: number
}

export async function clientHoldings(client: MqttClient): Promise<ClientHoldings> {
  const protocol = client['protocol']
  const outgoing = protocol['outgoing']
  const router = client['router']
  const inflight = outgoing['inflight'].size
  const queued = outgoing['queue'].length
  return {
    pendingOps: inflight + queued,
    routes: router['exact'].size + router['wildcard'].size,
    inflight,
    queued,
    incomingQos2: protocol['incomingQos2'].size,
    // The store is public (options.store); its contents are read the way the client reads them.
    stored: (await client.options.store.load()).length,
  }
}

/** How many listeners the client's events have, all events together: a count that must not grow with traffic. */
export function listenerTotal(client: MqttClient): number {
  const listeners = client['listeners'] as Record<string, readonly unknown[] | undefined>
  return Object.values(listeners).reduce((n, list) => n + (list?.length ?? 0), 0)
}
