// Directives of the HTTP health and metrics listener (a vigil extension; HTTP/Server+HTTP.swift).
// `CONFIG SET http-port` starts, moves or (with 0) stops the listener at run time.
import Shared

extension ConfigTable {
    /// http-port, http-bind, http-timeout.
    static var http: [ConfigSpec] {
        [
            int("http-port", \.httpPort, 0, 65535),
            row("http-bind", [], .special, .mutable, get: { $0.httpBind.joined(separator: " ") }, set: { c, v in
                c.httpBind = v.split(separator: " ").map(String.init)
            }),
            int("http-timeout", \.httpTimeoutMillis, 1, intMax),
        ]
    }
}
