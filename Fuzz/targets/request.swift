// Fuzz target: RequestParser on multibulk input, fed in two chunks (split point from the first
// byte) so the incremental "half-received multibulk" state is exercised too. Errors are fine.
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let all = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = all.first else { return 0 }
    var input = Array(all.dropFirst())
    // Low bit of the first byte: authenticated or not (tight limits); the rest: split point.
    var p = RequestParser(maxBulkLength: 1 << 20)
    p.authenticated = first & 1 == 0
    if first & 2 != 0 { input.insert(UInt8(ascii: "*"), at: 0) }  // steer towards multibulk
    let split = input.isEmpty ? 0 : Int(first >> 2) % (input.count + 1)
    var buffer: [UInt8] = []
    for chunk in [input[0..<split], input[split...]] {
        buffer.append(contentsOf: chunk)
        var guardCount = 0
        while !buffer.isEmpty && guardCount < 100_000 {
            guardCount += 1
            let r: (consumed: Int, command: [Bytes]?)
            do { r = try buffer.withUnsafeBytes { try p.parse($0) } } catch { return 0 }
            precondition(r.consumed >= 0 && r.consumed <= buffer.count, "consumed out of range")
            if r.consumed == 0 && r.command == nil { break }
            buffer.removeFirst(r.consumed)
        }
    }
    return 0
}
