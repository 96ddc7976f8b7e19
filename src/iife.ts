// Types for the script-tag build (dist/ts-mqtt-ws.iife.js), which has no exports of its own: it
// puts the whole public API on one global. A TypeScript page that loads it with a <script> tag
// gets that global typed with `/// <reference types="ts-mqtt-ws/iife" />`. Not part of the
// module builds; only its emitted declarations ship (package.json "exports" "./iife").
import type * as api from './index.js'

declare global {
  /**
   * The whole public API of ts-mqtt-ws, put here by the script-tag build
   * (`dist/ts-mqtt-ws.iife.js`): `TsMqttWs.connect`, `TsMqttWs.MqttError` and so on, the same
   * names as the module build exports. `TsMqttWs.connectShared` is there only when the page
   * loaded the sharing build, `dist/ts-mqtt-ws.shared.iife.js`, instead.
   */
  var TsMqttWs: typeof api
}
