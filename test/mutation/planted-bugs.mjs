// Bugs planted one at a time in a copy of the repository by `npm run mutate:e2e`, each with the
// integration or browser tests that must fail because of it. Stryker mutates the pure layers
// against the unit tests; these are the bugs that only show over real sockets, against real
// brokers or in Chromium, where a weak check once let them through.
//
// Each edit replaces `find` (which must occur exactly once in `file`, or at least once with
// `all: true`) by `replace`. When the code moves, an edit that no longer applies is reported as
// "cannot plant": update it here rather than dropping the bug. The planted code may be crude
// (global state, `as any`), but it must typecheck: the browser tests build the package, and
// that build writes declarations with tsc.

const vitest = (file, grep) => ({ runner: 'vitest', file, grep })
const playwright = (file, grep) => ({ runner: 'playwright', file, grep })

export const bugs = [
  {
    name: 'resubscribe-first-filter-only',
    about: 'after a reconnect, subscribe again to the first filter only',
    edits: [{ file: 'src/protocol/protocol.ts', find: 'subscriptions: granted.slice(i, i + RESUBSCRIBE_BATCH)', replace: 'subscriptions: granted.slice(0, 1)' }],
    caughtBy: [vitest('test/integration/resilience.test.ts', 'subscribes again after a reconnect to every filter')],
  },
  {
    name: 'resubscribe-at-qos-0',
    about: 'after a reconnect, subscribe again at QoS 0 instead of the granted QoS',
    edits: [
      {
        file: 'src/protocol/protocol.ts',
        find: 'subscriptions: granted.slice(i, i + RESUBSCRIBE_BATCH)',
        replace: 'subscriptions: granted.slice(i, i + RESUBSCRIBE_BATCH).map((s) => ({ ...s, qos: 0 as const }))',
      },
    ],
    caughtBy: [
      vitest('test/integration/resilience.test.ts', 'subscribes again after a reconnect to every filter'),
      playwright('test/e2e/resilience.spec.ts', 'across a aedes restart'),
    ],
  },
  {
    name: 'pending-subscriptions-unsettled',
    about: 'on end() or give-up, leave pending SUBSCRIBE/UNSUBSCRIBE promises unsettled',
    edits: [
      {
        file: 'src/protocol/protocol.ts',
        find: 'for (const entry of this.outgoing.drain()) this.settle(entry, error)',
        replace: "for (const entry of this.outgoing.drain()) if (entry.packet.cmd === 'publish') this.settle(entry, error)",
      },
    ],
    caughtBy: [vitest('test/integration/resilience.test.ts', 'settles every pending publish, subscribe and unsubscribe')],
  },
  {
    name: 'qos2-again-100ms-later',
    about: 'deliver every QoS 2 message a second time 100 ms later',
    edits: [
      {
        file: 'src/client/client.ts',
        find: 'this.deliver(new Message(action.packet))',
        replace:
          'const planted = new Message(action.packet); this.deliver(planted); if (planted.qos === 2) setTimeout(() => this.deliver(planted), 100)',
      },
    ],
    caughtBy: [vitest('test/integration/brokers.test.ts', 'delivers QoS 2 messages exactly once'), vitest('test/integration/chaos.test.ts', 'carries')],
  },
  {
    name: 'qos2-again-at-pubrel',
    about: 'deliver a QoS 2 message again when PUBREL arrives, 1 time in 100',
    edits: [
      {
        file: 'src/protocol/protocol.ts',
        find: 'this.incomingQos2.add(id)',
        replace: 'this.incomingQos2.add(id); ((this as any).planted ??= new Map()).set(id, packet)',
      },
      {
        file: 'src/protocol/protocol.ts',
        find: "case 'pubrel':",
        replace:
          "case 'pubrel':\n        if (Math.random() < 0.01 && (this as any).planted?.has(packet.messageId)) this.actions.push({ type: 'message', packet: (this as any).planted.get(packet.messageId) })",
      },
    ],
    caughtBy: [vitest('test/integration/chaos.test.ts', 'carries')],
  },
  {
    name: 'wildcard-publish-written',
    about: 'write a PUBLISH with a wildcard topic to the socket, then reject it',
    edits: [
      {
        file: 'src/client/client.ts',
        find: '() => buildPublish(topic, payload, options, this.protocol.protocolVersion),',
        replace:
          "() => {\n        if (typeof topic === 'string' && /[+#]/.test(topic)) this.connection?.send(plantedEncode({ cmd: 'publish', topic, payload: String(payload), qos: 0, retain: false, dup: false }, 4))\n        return buildPublish(topic, payload, options, this.protocol.protocolVersion)\n      },",
      },
      { file: 'src/client/client.ts', find: "import { TypedEmitter } from './emitter.js'", replace: "import { TypedEmitter } from './emitter.js'\nimport { encode as plantedEncode } from '../codec/encode.js'" },
    ],
    caughtBy: [playwright('test/e2e/demo.spec.ts', 'a bad topic')],
  },
  {
    name: 'qos1-dropped-but-acknowledged',
    about: 'drop every 500th incoming QoS 1 message, yet send its PUBACK',
    edits: [
      {
        file: 'src/protocol/protocol.ts',
        find: "} else if (packet.qos === 1) {\n      this.actions.push({ type: 'message', packet })",
        replace:
          "} else if (packet.qos === 1) {\n      if (((globalThis as any).planted = ((globalThis as any).planted ?? 0) + 1) % 500 !== 0) this.actions.push({ type: 'message', packet })",
      },
    ],
    caughtBy: [vitest('test/integration/chaos.test.ts', 'carries')],
  },
  {
    name: 'qos2-dropped-but-acknowledged',
    about: 'drop every 500th incoming QoS 2 message, yet send its PUBREC',
    edits: [
      {
        file: 'src/protocol/protocol.ts',
        find: "this.incomingQos2.add(id)\n        this.actions.push({ type: 'message', packet })",
        replace:
          "this.incomingQos2.add(id)\n        if (((globalThis as any).planted = ((globalThis as any).planted ?? 0) + 1) % 500 !== 0) this.actions.push({ type: 'message', packet })",
      },
    ],
    caughtBy: [vitest('test/integration/chaos.test.ts', 'carries')],
  },
  {
    name: 'route-left-per-connect',
    about: 'leave one router entry behind on every connect',
    edits: [
      {
        file: 'src/client/client.ts',
        find: "      return void this.emit('connect', connack as ConnackPacket)",
        replace: "      this.router.add({ topic: `planted/${Math.random()}`, qos: 0 })\n      return void this.emit('connect', connack as ConnackPacket)",
      },
    ],
    caughtBy: [vitest('test/integration/chaos.test.ts', 'flat over 200 drop-and-reconnect cycles')],
  },
  {
    name: 'connack-kept-per-connect',
    about: 'keep every CONNACK in a module-level list (a heap leak no record count shows)',
    edits: [
      {
        file: 'src/protocol/protocol.ts',
        find: 'this.plan.connected(this.now)',
        replace: 'this.plan.connected(this.now); ((globalThis as any).plantedLeak ??= []).push(connack)',
      },
    ],
    caughtBy: [vitest('test/integration/chaos.test.ts', 'flat over 200 drop-and-reconnect cycles')],
  },
  {
    name: 'keepalive-timeout-late',
    about: 'declare a silent connection dead five keepalive periods after the ping, not half of one',
    edits: [{ file: 'src/protocol/keepalive.ts', find: 'this.pingSentAt + this.periodMs / 2', replace: 'this.pingSentAt + this.periodMs * 5', all: true }],
    caughtBy: [vitest('test/integration/resilience.test.ts', 'finds a stalled connection by keepalive')],
  },
  {
    name: 'jitter-half-window',
    about: 'spread reconnects over only half the jitter window',
    edits: [{ file: 'src/protocol/backoff.ts', find: 'Math.floor(random() * ceiling)', replace: 'Math.floor((random() * ceiling) / 2)' }],
    caughtBy: [vitest('test/integration/chaos.test.ts', 'spreads the reconnects')],
  },
  {
    name: 'qos0-delivered-twice',
    about: 'hand every QoS 0 message to the subscription handlers twice',
    edits: [
      {
        file: 'src/client/client.ts',
        find: "this.router.dispatch(message, (err) => this.report(err), typeof ids === 'number' ? [ids] : ids)",
        replace: "this.router.dispatch(message, (err) => this.report(err), typeof ids === 'number' ? [ids] : ids)\n    if (message.qos === 0) this.router.dispatch(message, (err) => this.report(err))",
      },
    ],
    caughtBy: [vitest('test/integration/bench-harness.test.ts', 'receives a QoS 0 flood')],
  },
]
