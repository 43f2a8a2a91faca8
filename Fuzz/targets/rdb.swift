// Fuzz target: RDBReader, compiled together with the Node sources (it is internal to Node).
// Every input is read twice: as a file (expired keys dropped) and as a replication payload.
// The checksum is patched to 0 ("not checked") when the input ends like an RDB, so the fuzzer
// can reach the decoders without forging CRC64s.
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRDB(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var r1 = RDBReader(bytes)
    _ = try? r1.read(now: 1_700_000_000_000)
    if bytes.count > 9 + 8 {
        for i in (bytes.count - 8)..<bytes.count { bytes[i] = 0 }
        var r2 = RDBReader(bytes)
        _ = try? r2.read(now: nil)
    }
    return 0
}
