// vigil-lua: runs Lua files with the interpreter vigil-node embeds (all libraries, print included).
// Used by scripts/bench-lua and for checking scripts against the reference lua5.1 by hand.
//   vigil-lua file.lua [args...]     vigil-lua -e 'code'
import Glibc
import Lua

func fail(_ msg: String) -> Never {
    var m = Array(msg.utf8)
    m.append(10)
    _ = write(2, &m, m.count)
    exit(1)
}

func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}

let argv = CommandLine.arguments
guard argv.count >= 2 else {
    fail("usage: vigil-lua file.lua | -e code")
}
let L = LuaState()
L.openLibraries(.all)
if getenv("VIGIL_LUA_GC_STRESS") != nil { L.collectAtEverySafePoint = true }
// VIGIL_LUA_ABORT_AFTER=n: abort the script after n hook calls (one per 1000 ticks).
if let v = getenv("VIGIL_LUA_ABORT_AFTER"), let n = Int(String(cString: v)) {
    var calls = 0
    L.setInstructionHook(every: 1000) { (L) throws(LuaError) in
        calls += 1
        if calls >= n { throw L.abortError("aborted after \(calls) hook calls") }
    }
}
if let v = getenv("VIGIL_LUA_MEMORY_LIMIT"), let n = Int(String(cString: v)) { L.memoryLimit = n }
let source: [UInt8]
let chunkName: String
if argv[1] == "-e", argv.count >= 3 {
    source = Array(argv[2].utf8)
    chunkName = "=(command line)"
} else {
    guard let s = readFile(argv[1]) else {
        fail("vigil-lua: cannot open \(argv[1])")
    }
    source = s.first == UInt8(ascii: "#") ? Array(s.drop(while: { $0 != 10 })) : s
    chunkName = "@" + argv[1]
}
defer {
    if getenv("VIGIL_LUA_STATS") != nil {
        let c = L.objectCounts
        var m = Array("collections=\(L.collections) bytes=\(L.totalBytes) strings=\(c.strings) tables=\(c.tables) functions=\(c.functions)\n".utf8)
        _ = write(2, &m, m.count)
    }
}
do {
    let f = try L.load(source, chunkName: chunkName)
    _ = try L.call(.function(f), argv.dropFirst(2).map { .string(L.newString($0)) })
} catch {
    if getenv("VIGIL_LUA_STATS") != nil {
        var m = Array("collections=\(L.collections) bytes=\(L.totalBytes)\n".utf8)
        _ = write(2, &m, m.count)
    }
    fail("vigil-lua: \(error.message)")
}
