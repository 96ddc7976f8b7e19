// mqtt-packet requires 'events' from CommonJS; pointing it here turns that into an ES import,
// which an ES module build can leave to the consumer (Node's own, or the npm `events` package).
export { EventEmitter } from 'events'
