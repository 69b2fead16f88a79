// Starts an aedes MQTT broker (3.1.1) on 127.0.0.1 for Touchstone's conformance matrix.
//
//   node server.js PORT
//
// Default aedes options (in-memory persistence). Stops cleanly on SIGTERM or SIGINT.
import { createServer } from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node server.js PORT')
  process.exit(2)
}

const aedes = await Aedes.createBroker()
const server = createServer(aedes.handle)
server.on('error', (err) => {
  console.error(`aedes host: ${err.message}`)
  process.exit(1)
})
aedes.on('clientError', (client, err) => {
  console.log(`client ${client && client.id} error: ${err.message}`)
})
aedes.on('connectionError', (client, err) => {
  console.log(`connection error: ${err.message}`)
})

server.listen(port, '127.0.0.1', () => {
  console.log(`aedes listening on 127.0.0.1:${port}`)
})

function stop () {
  server.close()
  aedes.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 3000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
