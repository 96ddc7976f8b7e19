// Stands in for the `debug` package inside the bundled codec: mqtt-packet logs every parse step
// through it, which costs bytes and time in a browser and is never switched on there. CommonJS,
// because mqtt-packet calls the result of require('debug') directly.
module.exports = function createDebug() {
  const log = function () {}
  log.enabled = false
  return log
}
