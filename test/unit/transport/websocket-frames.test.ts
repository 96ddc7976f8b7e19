import { describe, expect, it } from 'vitest'
import { joinFrames } from '../../../src/transport/websocket.js'

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill)

describe('joinFrames', () => {
  it('joins the small packets of one turn into one frame, in order', () => {
    const frames = joinFrames([bytes(2, 1), bytes(3, 2), bytes(1, 3)])
    expect(frames).toHaveLength(1)
    expect([...(frames[0] as Uint8Array)]).toEqual([1, 1, 2, 2, 2, 3])
  })

  it('passes a single packet through without copying', () => {
    const only = bytes(5)
    expect(joinFrames([only])[0]).toBe(only)
  })

  it('starts a new frame rather than grow one past 64 KiB, keeping order', () => {
    const big = bytes(70_000, 9)
    const frames = joinFrames([bytes(10, 1), big, bytes(10, 2), bytes(10, 3)])
    expect(frames.map((f) => f.length)).toEqual([10, 70_000, 20])
    expect(frames[1]).toBe(big)
  })
})
