// The clients the bench measures beside ours that ship no types; the tests only hand them on.
declare module 'paho-mqtt'
declare module 'u8-mqtt/esm/node/v4.js'
