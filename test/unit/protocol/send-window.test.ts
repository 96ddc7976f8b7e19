import { describe, expect, it } from 'vitest'
import { SendWindow, START_WINDOW } from '../../../src/protocol/send-window.js'

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

  it('grows by one per acknowledgement that comes while it is full: doubling each round trip', () => {
    const w = new SendWindow(200)
    w.connected(undefined)
    fullAcks(w, 10)
    expect(w.size).toBe(20)
    fullAcks(w, 20)
    expect(w.size).toBe(40)
  })

  it('does not grow on acknowledgements that come while the caller leaves it part empty', () => {
    const w = new SendWindow(200)
    w.acked(1)
    w.acked(9)
    expect(w.size).toBe(10)
  })

  it('does not grow while a resend bigger than the window drains', () => {
    const w = new SendWindow(200)
    fullAcks(w, 30)
    w.lost(40)
    expect(w.size).toBe(20)
    w.acked(40)
    w.acked(21)
    expect(w.size).toBe(20)
    w.acked(20)
    expect(w.size).toBe(21)
  })

  it('never grows past maxInflight', () => {
    const w = new SendWindow(25)
    fullAcks(w, 100)
    expect(w.size).toBe(25)
  })

  it('halves after a connection dies with more than half the window in flight', () => {
    const w = new SendWindow(200)
    fullAcks(w, 70)
    expect(w.size).toBe(80)
    w.lost(41)
    expect(w.size).toBe(40)
    w.lost(40)
    expect(w.size).toBe(20)
  })

  it('keeps its size after a connection dies with half the window in flight or less', () => {
    const w = new SendWindow(200)
    fullAcks(w, 70)
    w.lost(40)
    w.lost(0)
    expect(w.size).toBe(80)
  })

  it('never backs off below where it starts', () => {
    const w = new SendWindow(200)
    fullAcks(w, 4)
    w.lost(14)
    expect(w.size).toBe(10)
    const small = new SendWindow(4)
    small.lost(4)
    expect(small.size).toBe(4)
  })

  it('keeps what it found across connections', () => {
    const w = new SendWindow(200)
    fullAcks(w, 50)
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
    fullAcks(w, 20)
    w.connected(5)
    expect(w.size).toBe(5)
    w.connected(undefined)
    expect(w.size).toBe(30)
  })
})
