// Fuzz target: the decoders of values clients control, compiled with the Node sources.
// The first byte picks what the rest is:
//   0: a HyperLogLog string (bit 7 of byte 0 set: the HYLL magic is forced, so the fuzzer
//      reaches the register code) run through count, merge, add, sparse->dense and decode;
//   1: a DUMP payload body: the version and CRC64 footer are appended, so RESTORE's value reader
//      is reached; a value read back is dumped and read again;
//   2: 8-byte sorted-set scores decoded as GEO positions, hashes and distances.
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPayload(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzPayloadInput(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

func fuzzPayloadInput(_ input: [UInt8]) {
    guard let mode = input.first else { return }
    var body = Array(input.dropFirst())
    switch mode & 3 {
    case 0:
        if mode & 0x80 != 0 && body.count >= 5 {
            body.replaceSubrange(0..<4, with: Array("HYLL".utf8))
            body[4] &= 1
        }
        guard HyperLogLog.isValid(body) else { return }
        _ = HyperLogLog.count(body)
        var regs = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        _ = HyperLogLog.merge(into: &regs, body)
        _ = HyperLogLog.decode(body)
        var h = body
        for e in [[UInt8](), [1], Array("element".utf8)] {
            _ = e.withUnsafeBytes { HyperLogLog.add(&h, $0, maxBytes: 3000) }
        }
        var d = body
        if HyperLogLog.sparseToDense(&d) { _ = HyperLogLog.count(d) }
        var m = HyperLogLog.makeEmpty()
        for (i, v) in regs.enumerated() where v != 0 { _ = HyperLogLog.sparseRaise(&m, i, v, maxBytes: 3000) }
    case 1:
        body += [UInt8(RDB.version & 0xff), UInt8(RDB.version >> 8)]
        let crc = CRC64.update(0, body)
        for i in 0..<8 { body.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
        guard DumpPayload.verify(body), let v = DumpPayload.value(body) else { return }
        _ = DumpPayload.value(DumpPayload.make(v, compression: true))
    default:
        var i = 0
        while i + 8 <= body.count {
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(body[i + k]) << (8 * UInt64(k)) }
            let score = Double(bitPattern: bits)
            let p = GeoHash.position(ofScore: score)
            _ = GeoHash.standardString(ofScore: score)
            _ = GeoHash.distance(p.lon, p.lat, 13.4, 38.1)
            let shape = GeoShape(kind: .circle(radius: Double(body[i] % 200) * 1000), lon: p.lon, lat: p.lat, conversion: 1)
            _ = GeoHash.searchAreas(shape)
            _ = GeoHash.within(shape, score: score)
            i += 8
        }
    }
}
