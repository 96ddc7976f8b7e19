import type { Message, MqttClientApi, QoS } from 'ts-mqtt-ws'
import { byId, describeError, el, note } from './dom.js'

/**
 * The subscriptions panel: one row per filter, each with a handler of its own that counts and
 * shows only the messages its filter matches. Errors of this panel show in this panel.
 */

const list = byId<HTMLUListElement>('subscriptions')
const problem = byId('subscribe-error')

export const showSubscribeError = (err: unknown): void => note(problem, describeError(err))

/** A row for one filter, and the handler that updates only that row. */
function subscriptionRow(client: MqttClientApi, filter: string, qos: QoS): { row: HTMLLIElement; handler: (msg: Message) => void } {
  const count = el('span', 'count', '0')
  const last = el('span', 'last')
  const remove = el('button', 'small', 'Unsubscribe')
  remove.type = 'button'
  remove.addEventListener('click', () => {
    client.unsubscribe(filter).then(() => row.remove(), showSubscribeError)
  })
  const row = el('li', '', el('code', 'filter', filter), el('span', 'sub-qos', ` QoS ${qos} `), count, ' messages ', remove, last)
  row.dataset.filter = filter
  row.dataset.state = 'subscribing'
  list.append(row)
  let n = 0
  const handler = (msg: Message) => {
    count.textContent = String(++n)
    last.textContent = `last: ${msg.topic} = ${msg.text()}`
  }
  return { row, handler }
}

/** Subscribes with a row of its own; `also` sees the same messages (the received list, say). */
export async function subscribe(client: MqttClientApi, filter: string, qos: QoS, also?: (msg: Message) => void): Promise<void> {
  note(problem, '')
  const { row, handler } = subscriptionRow(client, filter, qos)
  try {
    const [granted] = await client.subscribe(filter, { qos }, (msg) => {
      handler(msg)
      also?.(msg)
    })
    row.dataset.state = 'active'
    row.dataset.granted = String(granted?.qos)
  } catch (err) {
    row.remove()
    showSubscribeError(err)
  }
}

/** A client that ended took its subscriptions with it. */
export function clearSubscriptions(): void {
  list.replaceChildren()
  note(problem, '')
}
