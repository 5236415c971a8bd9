// Preloaded into the gateway process by the reliability harness (`node --expose-gc --import
// tsx --import ./probe.ts src/server.ts`): the shipped server, plus an IPC answer to "how much
// memory after a full GC?" so that the harness measures the gateway's own heap and RSS.
process.on('message', (message) => {
  if (message !== 'memory') return
  globalThis.gc?.()
  globalThis.gc?.() // a second pass collects what the first one's finalizers freed
  const { heapUsed, rss, arrayBuffers } = process.memoryUsage()
  process.send?.({ heapUsed, rss, arrayBuffers })
})
// The IPC channel must not keep a draining gateway alive.
process.channel?.unref()
