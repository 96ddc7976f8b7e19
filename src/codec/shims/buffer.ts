import { MiniBufferStatics } from './mini-buffer.js'

/** What the codec calls on Buffer: met by Node's Buffer and by MiniBuffer. */
export interface BufferStatics {
  from(bytes: ArrayBuffer, offset: number, length: number): Uint8Array
  isBuffer(value: unknown): boolean
}

/**
 * The Buffer the codec runs on: Node's own where there is one (native UTF-8, and what
 * mqtt-packet was written against), MiniBuffer in browsers. It is looked up on globalThis,
 * never required, so a consumer has nothing to shim.
 */
export const Buffer: BufferStatics = (globalThis as { Buffer?: BufferStatics }).Buffer ?? MiniBufferStatics
