import { describe, expect, it } from 'vitest'
import { GROWTH, SendWindow, START_WINDOW } from '../../../src/protocol/send-window.js'

/** Acknowledgements that each come while the window is full, as they do behind a backed-up queue. */
function fullAcks(window: SendWindow, n: number): void {
  for (let i = 0; i < n; i++) window.acked(window.size)
}

describe('SendWindow where the broker announces no limit (3.1.1)', () => {
  it('starts at 10, or at maxInflight when that is smaller', () => {
    expect(START_WINDOW).toBe(10)
    expect(new SendWindow(200).size).toBe(10)
    expect(new SendWindow(3).size).toBe(3)
  })

  it('grows by two per acknowledgement that comes while it is full: tripling each round trip', () => {
    expect(GROWTH).toBe(2)
    const w = new SendWindow(1000)
    w.connected(undefined)
    fullAcks(w, 10)
    expect(w.size).toBe(30)
    fullAcks(w, 30)
    expect(w.size).toBe(90)
  })

  it('does not grow on acknowledgements that come while the caller leaves it part empty', () => {
    const w = new SendWindow(200)
    w.acked(1)
    w.acked(9)
    expect(w.size).toBe(10)
  })

  it('does not grow while a resend bigger than the window drains', () => {
    const w = new SendWindow(1000)
    fullAcks(w, 10)
    w.lost(40)
    expect(w.size).toBe(15)
    w.acked(40)
    w.acked(16)
    expect(w.size).toBe(15)
    w.acked(15)
    expect(w.size).toBe(17)
  })

  it('never grows past maxInflight', () => {
    const w = new SendWindow(25)
    fullAcks(w, 100)
    expect(w.size).toBe(25)
  })

  it('halves after a connection dies with more than half the window in flight', () => {
    const w = new SendWindow(1000)
    fullAcks(w, 35)
    expect(w.size).toBe(80)
    w.lost(41)
    expect(w.size).toBe(40)
    w.lost(40)
    expect(w.size).toBe(20)
  })

  it('keeps its size after a connection dies with half the window in flight or less', () => {
    const w = new SendWindow(1000)
    fullAcks(w, 35)
    w.lost(40)
    w.lost(0)
    expect(w.size).toBe(80)
  })

  it('never backs off below where it starts', () => {
    const w = new SendWindow(200)
    fullAcks(w, 2)
    w.lost(14)
    expect(w.size).toBe(10)
    const small = new SendWindow(4)
    small.lost(4)
    expect(small.size).toBe(4)
  })

  it('keeps what it found across connections', () => {
    const w = new SendWindow(200)
    fullAcks(w, 25)
    w.lost(0)
    w.connected(undefined)
    expect(w.size).toBe(60)
  })
})

describe('SendWindow where the broker announces Receive Maximum (MQTT 5)', () => {
  it('is the Receive Maximum at once, capped by maxInflight', () => {
    const w = new SendWindow(200)
    w.connected(50)
    expect(w.size).toBe(50)
    w.connected(1000)
    expect(w.size).toBe(200)
  })

  it('neither grows nor backs off', () => {
    const w = new SendWindow(200)
    w.connected(50)
    fullAcks(w, 20)
    w.lost(50)
    expect(w.size).toBe(50)
  })

  it('gives way to the window found before on a connection whose broker announces nothing', () => {
    const w = new SendWindow(200)
    fullAcks(w, 10)
    w.connected(5)
    expect(w.size).toBe(5)
    w.connected(undefined)
    expect(w.size).toBe(30)
  })
})
