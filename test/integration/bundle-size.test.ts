import { expect, inject, it } from 'vitest'
import { measureSizes, SIZE_BUDGET } from '../../bench/size.js'
import { sharedTarball } from '../support/consumer.js'

// Bytes, not time: the same source always builds to the same size, so this is a test and not a
// benchmark. `npm run size` prints the full table beside MQTT.js, paho-mqtt and u8-mqtt.
it("keeps the script-tag build and a Vite app's import { connect } within a quarter of MQTT.js, gzipped", async () => {
  await sharedTarball(inject('runDir')) // the pack builds dist/, once for the run
  const ours = (await measureSizes()).filter((row) => 'ours' in row)
  expect(ours).toHaveLength(2)
  for (const row of ours) expect(row.gzip, row.name).toBeLessThanOrEqual(SIZE_BUDGET)
}, 180_000)
