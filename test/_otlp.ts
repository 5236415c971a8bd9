// What an OTLP/HTTP exporter sends, read back for the tests' receivers: a protobuf
// ExportTraceServiceRequest (opentelemetry-proto's trace.proto and common.proto) decoded into the
// shape of its JSON encoding (ids in hex, 64-bit numbers as strings), the fields the tests read.

/** The trace export request `body` (sent as `contentType`), as OTLP JSON would spell it. */
export function otlpTraces(body: Buffer, contentType: string): any {
  if (contentType.startsWith('application/json')) return JSON.parse(body.toString('utf8'))
  if (!contentType.startsWith('application/x-protobuf')) throw new Error(`not an OTLP content type: ${contentType}`)
  return { resourceSpans: _all(body, 1).map(_resourceSpans) }
}

function _resourceSpans(b: Buffer) {
  const resource = _one(b, 1)
  return { resource: { attributes: resource ? _all(resource, 1).map(_keyValue) : [] }, scopeSpans: _all(b, 2).map((s) => ({ spans: _all(s, 2).map(_span) })) }
}

function _span(b: Buffer) {
  const f = _fields(b)
  const hex = (n: number) => (f.get(n)?.[0] as Buffer | undefined)?.toString('hex')
  const status = f.get(15)?.[0] as Buffer | undefined
  const statusFields = status && _fields(status)
  return {
    traceId: hex(1),
    spanId: hex(2),
    parentSpanId: hex(4) ?? '',
    name: (f.get(5)?.[0] as Buffer | undefined)?.toString('utf8'),
    kind: Number(f.get(6)?.[0] ?? 0),
    startTimeUnixNano: String((f.get(7)?.[0] as Buffer).readBigUInt64LE(0)),
    endTimeUnixNano: String((f.get(8)?.[0] as Buffer).readBigUInt64LE(0)),
    attributes: ((f.get(9) ?? []) as Buffer[]).map(_keyValue),
    status: statusFields ? { code: Number(statusFields.get(3)?.[0] ?? 0), message: (statusFields.get(2)?.[0] as Buffer | undefined)?.toString('utf8') } : {},
  }
}

// A KeyValue: its AnyValue as JSON names it (stringValue, boolValue, intValue, doubleValue).
function _keyValue(b: Buffer) {
  const f = _fields(b)
  const value = _fields((f.get(2)?.[0] as Buffer | undefined) ?? Buffer.alloc(0))
  const [n, v] = [...value][0] ?? [0, [undefined]]
  const any = n === 1 ? { stringValue: (v[0] as Buffer).toString('utf8') } : n === 2 ? { boolValue: v[0] === 1n } : n === 3 ? { intValue: String(BigInt.asIntN(64, v[0] as bigint)) } : n === 4 ? { doubleValue: (v[0] as Buffer).readDoubleLE(0) } : {}
  return { key: (f.get(1)?.[0] as Buffer).toString('utf8'), value: any }
}

const _all = (b: Buffer, field: number) => (_fields(b).get(field) ?? []) as Buffer[]
const _one = (b: Buffer, field: number) => _all(b, field)[0]

// A message's fields by number, each a list of its values: varints and fixed32 as bigints,
// fixed64 and length-delimited as their bytes (a fixed64 is a time or a double: its reader knows).
function _fields(b: Buffer): Map<number, (bigint | Buffer)[]> {
  const out = new Map<number, (bigint | Buffer)[]>()
  let at = 0
  const varint = () => {
    let value = 0n
    for (let shift = 0n; ; shift += 7n) {
      if (at >= b.length) throw new Error('protobuf: the body ends inside a varint')
      const byte = b[at++]!
      value |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return value
    }
  }
  while (at < b.length) {
    const tag = Number(varint())
    const [field, wire] = [tag >>> 3, tag & 7]
    let value: bigint | Buffer
    if (wire === 0) value = varint()
    else if (wire === 1) {
      value = b.subarray(at, at + 8)
      at += 8
    } else if (wire === 2) {
      const length = Number(varint())
      value = b.subarray(at, at + length)
      at += length
    } else if (wire === 5) {
      value = BigInt(b.readUInt32LE(at))
      at += 4
    } else throw new Error(`protobuf wire type ${wire} is not one OTLP traces use`)
    if (at > b.length) throw new Error(`protobuf: field ${field} runs past the end of its message`)
    out.set(field, [...(out.get(field) ?? []), value])
  }
  return out
}
