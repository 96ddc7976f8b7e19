import type { Message, PublishProperties } from 'ts-mqtt-ws'
import { byId, clockTime, el } from './dom.js'

/**
 * The received list: each message with its time, topic, payload, the QoS it was delivered at
 * (the lower of the publisher's and the subscription's), its retain and dup flags, and its
 * MQTT 5 properties. The newest is last; the oldest go once the list is long.
 */

const list = byId<HTMLUListElement>('messages')
const KEEP = 200

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')

/** One property as text: user properties as key=value pairs, binary data as hex. */
function propertyText(value: unknown): string {
  if (value instanceof Uint8Array) return hex(value)
  if (Array.isArray(value)) return value.join(', ')
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`)
      .join(', ')
  }
  return String(value)
}

function propertyList(properties: PublishProperties): HTMLDListElement {
  const dl = el('dl', 'props')
  for (const [name, value] of Object.entries(properties)) {
    if (value === undefined) continue
    const item = el('div', '', el('dt', '', name), el('dd', '', propertyText(value)))
    item.dataset.property = name
    dl.append(item)
  }
  return dl
}

function flag(text: string, name: string): HTMLSpanElement {
  const badge = el('span', `flag flag-${name}`, text)
  badge.dataset.flag = name
  return badge
}

export function showMessage(msg: Message): void {
  const flags = el('span', 'flags', flag(`QoS ${msg.qos}`, 'qos'))
  if (msg.retain) flags.append(flag('retain', 'retain'))
  if (msg.dup) flags.append(flag('dup', 'dup'))
  const item = el('li', '', el('time', '', clockTime()), el('span', 'topic', msg.topic), flags, el('span', 'payload', msg.text()))
  if (msg.properties && Object.keys(msg.properties).length > 0) item.append(propertyList(msg.properties))
  Object.assign(item.dataset, { qos: String(msg.qos), retain: String(msg.retain), dup: String(msg.dup) })
  list.append(item)
  while (list.children.length > KEEP) list.firstElementChild?.remove()
  // The list scrolls by itself, not the page: the newest message stays in view.
  list.scrollTop = list.scrollHeight
}
