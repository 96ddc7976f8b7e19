import type { MqttClient } from '../../src/index.js'

/**
 * The sizes of what a client keeps per message, operation or subscription. These are private
 * fields, read here and nowhere else, so that a restructure of the client has one place to
 * update. Every entry should return to its resting size once traffic settles: growth across
 * reconnects is a leak.
 */
export interface ClientHoldings {
  /** Promises of operations not yet settled. */
  pendingOps: number
  /** Filters in the router, exact and wildcard. */
  routes: number
  /** Packets sent and awaiting acknowledgement. */
  inflight: number
  /** Operations waiting to be sent. */
  queued: number
  /** Incoming QoS 2 ids delivered and awaiting PUBREL. */
  incomingQos2: number
  /** Packet ids allocated. */
  packetIds: number
  /** Outbox entries linking operations to stored messages. */
  outbox: number
  /** Messages in the client's store. */
  stored: number
}

export async function clientHoldings(client: MqttClient): Promise<ClientHoldings> {
  const protocol = client['protocol']
  const router = client['router']
  return {
    pendingOps: client['ops'].size,
    routes: router['exact'].size + router['wildcard'].size,
    inflight: protocol['inflight'].size,
    queued: protocol['queue'].length,
    incomingQos2: protocol['incomingQos2'].size,
    packetIds: protocol['ids'].size,
    outbox: client['outbox']['keys'].size,
    // The store is public (options.store); its contents are read the way the client reads them.
    stored: (await client.options.store.load()).length,
  }
}
