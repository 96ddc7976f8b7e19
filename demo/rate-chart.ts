import { byId, setText } from './dom.js'

/**
 * Messages received per second over the last minute, drawn as bars on a <canvas> with no chart
 * library: count() on each message; once a second the count becomes the newest bar.
 */

const SECONDS = 60
const canvas = byId<HTMLCanvasElement>('rate')
const now = byId('rate-now')
const peak = byId('rate-peak')
const history: number[] = new Array<number>(SECONDS).fill(0)
let thisSecond = 0

/** One more message in the current second. */
export function countMessage(): void {
  thisSecond++
}

/** Sizes the drawing buffer to the element, so bars stay sharp on high-density screens. */
function fitCanvas(): CanvasRenderingContext2D | null {
  const ratio = window.devicePixelRatio || 1
  const width = Math.round(canvas.clientWidth * ratio)
  const height = Math.round(canvas.clientHeight * ratio)
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height })
  return canvas.getContext('2d')
}

function draw(): void {
  const ctx = fitCanvas()
  if (!ctx) return
  const { width, height } = canvas
  const style = getComputedStyle(canvas)
  ctx.clearRect(0, 0, width, height)
  // A scale of at least 5 msg/s, so a single message does not fill the chart.
  const top = Math.max(5, ...history)
  ctx.strokeStyle = style.getPropertyValue('--grid').trim() || '#ddd'
  ctx.lineWidth = 1
  for (const level of [0.25, 0.5, 0.75]) {
    const y = Math.round(height * level) + 0.5
    ctx.beginPath()
    ctx.moveTo(0, y)
    ctx.lineTo(width, y)
    ctx.stroke()
  }
  const step = width / SECONDS
  ctx.fillStyle = style.getPropertyValue('--bar').trim() || '#2563eb'
  history.forEach((n, i) => {
    if (n === 0) return
    const barHeight = Math.max(1, (n / top) * (height - 2))
    ctx.fillRect(i * step + 1, height - barHeight, Math.max(1, step - 2), barHeight)
  })
  setText(now, String(history[SECONDS - 1]))
  setText(peak, String(Math.max(...history)))
}

setInterval(() => {
  history.push(thisSecond)
  history.shift()
  thisSecond = 0
  draw()
}, 1000)
draw()
window.addEventListener('resize', draw)
