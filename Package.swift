// swift-tools-version:6.0
// Vigil: a Redis-compatible data node and a Sentinel-style supervisor.
// No package dependencies: the binaries link the Swift standard library and libc only.
import PackageDescription

// Release builds skip the run-time exclusivity checks (the compile-time ones stay): callgrind showed
// swift_beginAccess and its access-set bookkeeping at ~25% of the instructions of a pipelined SET/GET,
// about 25 checks per command on class properties (stats counters, the client's parser and argv).
let releaseSpeed: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Vigil",
    products: [
        .executable(name: "vigil-node", targets: ["Node"]),
        .executable(name: "vigil-sentinel", targets: ["Sentinel"]),
        .executable(name: "vigil-lua", targets: ["LuaRunner"]),
    ],
    targets: [
        // Our own shim: Glibc lacks epoll/signalfd/eventfd and hides accept4.
        .target(name: "CSystem"),
        // vigil-node's allocation counter (used_memory): malloc interposed, forwarding to glibc's.
        .target(name: "CAlloc"),
        .target(name: "Shared", dependencies: ["CSystem"], swiftSettings: releaseSpeed),
        // A Lua 5.1 interpreter (no knowledge of Redis), embedded by the node for EVAL/FUNCTION.
        // Optimized in debug builds too: the interpreter's tests run millions of instructions.
        .target(name: "Lua", swiftSettings: releaseSpeed + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .executableTarget(name: "LuaRunner", dependencies: ["Lua"], swiftSettings: releaseSpeed),
        .executableTarget(name: "Node", dependencies: ["Shared", "Lua", "CAlloc"], swiftSettings: releaseSpeed),
        .executableTarget(name: "Sentinel", dependencies: ["Shared"]),
        // Process harness and a raw RESP client shared by the test targets (may use Foundation).
        .target(name: "TestSupport", dependencies: ["Shared"], path: "Tests/TestSupport"),
        .testTarget(name: "SharedTests", dependencies: ["Shared"]),
        .testTarget(name: "LuaTests", dependencies: ["Lua"], exclude: ["Scripts"]),
        .testTarget(name: "NodeTests", dependencies: ["Node", "Shared", "TestSupport"]),
        .testTarget(name: "SentinelTests", dependencies: ["Sentinel", "Shared", "TestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Shared", "TestSupport"], exclude: ["Scripts"]),
    ],
    swiftLanguageModes: [.v6]
)
