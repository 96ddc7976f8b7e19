import { utf8Length } from '../../bytes.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

type Source = string | ArrayBuffer | ArrayLike<number>

/**
 * The part of Node's Buffer that mqtt-packet and bl's BufferList use, on a plain Uint8Array, for
 * browsers. The `buffer` package carries all of Node's API at 9 KB gzip, a third of our size
 * budget; this is about 1 KB. Only UTF-8 is spoken, as MQTT needs nothing else. `slice` shares
 * memory, as Node's does, so a parsed payload is a view, not a copy.
 */
export class MiniBuffer extends Uint8Array {
  override slice(start?: number, end?: number): MiniBuffer {
    return this.subarray(start, end) as MiniBuffer
  }

  override toString(_encoding?: string, start = 0, end = this.length): string {
    return decoder.decode(this.subarray(start, end))
  }

  write(text: string, offset = 0): number {
    return encoder.encodeInto(text, this.subarray(offset)).written
  }

  copy(target: Uint8Array, targetStart = 0, sourceStart = 0, sourceEnd = this.length): number {
    const length = Math.max(0, Math.min(sourceEnd, this.length, sourceStart + target.length - targetStart) - sourceStart)
    if (length === 0) return 0
    // A plain view, not this.subarray(): that goes through the subclass's constructor, which
    // engines make slow, and the encoder copies every payload through here.
    target.set(new Uint8Array(this.buffer, this.byteOffset + sourceStart, length), targetStart)
    return length
  }

  readUInt8(offset = 0): number {
    return this.checked(offset, 1)[offset] as number
  }

  readUInt16BE(offset = 0): number {
    const b = this.checked(offset, 2)
    return ((b[offset] as number) << 8) | (b[offset + 1] as number)
  }

  readUInt32BE(offset = 0): number {
    const b = this.checked(offset, 4)
    return (b[offset] as number) * 0x1000000 + (((b[offset + 1] as number) << 16) | ((b[offset + 2] as number) << 8) | (b[offset + 3] as number))
  }

  writeUInt8(value: number, offset = 0): number {
    this.checked(offset, 1)[offset] = value
    return offset + 1
  }

  writeUInt16BE(value: number, offset = 0): number {
    const b = this.checked(offset, 2)
    b[offset] = value >>> 8
    b[offset + 1] = value
    return offset + 2
  }

  writeUInt32BE(value: number, offset = 0): number {
    const b = this.checked(offset, 4)
    b[offset] = value >>> 24
    b[offset + 1] = value >>> 16
    b[offset + 2] = value >>> 8
    b[offset + 3] = value
    return offset + 4
  }

  /** Node throws on reads and writes past the end; silently reading undefined would hide a malformed packet. */
  private checked(offset: number, size: number): this {
    if (offset < 0 || offset + size > this.length) throw new RangeError(`offset ${offset} is out of range`)
    return this
  }
}

function view(bytes: Uint8Array): MiniBuffer {
  return new MiniBuffer(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Buffer's static side, as far as the codec uses it, attached to the class itself because
 * mqtt-packet also asks `x instanceof Buffer`. (Declared apart from the class: TypeScript will not
 * let a static `from` with Buffer's signature override Uint8Array.from.)
 */
const statics = {
  from(value: Source, offset?: number | string, length?: number): MiniBuffer {
    if (typeof value === 'string') return view(encoder.encode(value))
    if (value instanceof ArrayBuffer) {
      const start = typeof offset === 'number' ? offset : 0
      return new MiniBuffer(value, start, length ?? value.byteLength - start)
    }
    const out = new MiniBuffer(value.length)
    out.set(value)
    return out
  },

  alloc(size: number, fill = 0): MiniBuffer {
    const out = new MiniBuffer(size)
    if (fill !== 0) out.fill(fill)
    return out
  },

  allocUnsafe(size: number): MiniBuffer {
    return new MiniBuffer(size)
  },

  byteLength(value: string | ArrayBuffer | ArrayBufferView): number {
    return typeof value === 'string' ? utf8Length(value) : value.byteLength
  },

  isBuffer(value: unknown): value is MiniBuffer {
    return value instanceof MiniBuffer
  },

  concat(list: readonly Uint8Array[], total?: number): MiniBuffer {
    const out = new MiniBuffer(total ?? list.reduce((n, b) => n + b.length, 0))
    let offset = 0
    for (const chunk of list) {
      if (offset >= out.length) break
      const part = chunk.subarray(0, out.length - offset)
      out.set(part, offset)
      offset += part.length
    }
    return out
  },
}

export type MiniBufferConstructor = typeof statics & (new (length: number) => MiniBuffer)
export const MiniBufferStatics = Object.assign(MiniBuffer, statics) as unknown as MiniBufferConstructor
