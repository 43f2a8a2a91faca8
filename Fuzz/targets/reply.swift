// Fuzz target: RESPParser (RESP2/RESP3 replies), parsing values back to back until an error or
// "need more"; also checks that `next` always moves forward and stays in bounds.
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReply(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let buf = UnsafeRawBufferPointer(start: data, count: size)
    var pos = 0
    while pos < size {
        let r: (value: RESPValue, next: Int)?
        do { r = try RESPParser.parse(buf, from: pos, maxBulk: 1 << 20) } catch { return 0 }
        guard let r else { return 0 }
        precondition(r.next > pos && r.next <= size, "next out of range")
        pos = r.next
    }
    return 0
}
