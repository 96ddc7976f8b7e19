// mqtt-packet's parser module on its own: the package's main also loads its encoder, which we do
// not use (codec/write-packet.ts writes every packet) and which a CommonJS bundle cannot drop.
declare module 'mqtt-packet/parser.js' {
  import type { Parser } from 'mqtt-packet'
  const ParserClass: { parser(options?: { protocolVersion?: number }): Parser }
  export default ParserClass
}
