// Fuzz target: the inline path of RequestParser (and ArgSplitter's quoting rules): the input is
// forced not to start with '*'.
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInline(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var buffer = Array(UnsafeBufferPointer(start: data, count: size))
    if buffer.first == UInt8(ascii: "*") { buffer[0] = UInt8(ascii: " ") }
    var p = RequestParser()
    var rounds = 0
    while !buffer.isEmpty && rounds < 100_000 {
        rounds += 1
        if buffer.first == UInt8(ascii: "*") { buffer[0] = UInt8(ascii: " ") }
        let r: (consumed: Int, command: [Bytes]?)
        do { r = try buffer.withUnsafeBytes { try p.parse($0) } } catch { return 0 }
        precondition(r.consumed >= 0 && r.consumed <= buffer.count, "consumed out of range")
        if r.consumed == 0 { break }
        buffer.removeFirst(r.consumed)
    }
    _ = Array(UnsafeBufferPointer(start: data, count: size)).withUnsafeBytes { ArgSplitter.split($0) }
    return 0
}
