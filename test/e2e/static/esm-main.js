// The ESM build, imported as it is from dist/ by the browser itself: no bundler in between.
import * as lib from '/dist/ts-mqtt-ws.js'

window.runSession(lib)
