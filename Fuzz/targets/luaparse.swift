// Fuzz target: the Lua lexer, parser and compiler (Sources/Lua compiled as its own module). The
// input is a chunk's source; it must compile or raise a LuaError, never trap. A chunk that
// compiles is not run here (the `eval` target runs bodies); it is compiled a second time under
// a chunk name Redis uses, as the error path formats the name into every message.
import Lua

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLuaParse(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzLuaParseInput(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// One state for every input: what a failed compile leaves behind must not affect the next.
nonisolated(unsafe) let fuzzLuaState: LuaState = {
    let L = LuaState()
    L.memoryLimit = 64 << 20
    return L
}()

func fuzzLuaParseInput(_ input: [UInt8]) {
    let L = fuzzLuaState
    do {
        _ = try L.load(input, chunkName: "=fuzz")
        _ = try L.load(input, chunkName: "@user_script")
    } catch {
        _ = error.message
    }
    L.collectIfNeeded()
}
