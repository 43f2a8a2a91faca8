// A file-permission check the sentinel needs for its scripts.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension Posix {
    /// True if `path` exists and may be executed (scripts must be, as Redis checks).
    static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }
}
