// The script-tag build puts the client on window.TsMqttWs.
window.runSession(window.TsMqttWs)
