// strtold / strtoull with their ERANGE report: the C parsers Redis uses for floats and cursors,
// wrapped here because they signal overflow through errno.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

extension Posix {
    /// What a C number parser made of a string.
    public struct Parsed<T> {
        /// The value.
        public let value: T
        /// Bytes consumed (all of them for a clean parse).
        public let consumed: Int
        /// errno was ERANGE (overflow or underflow).
        public let outOfRange: Bool
    }

    /// strtold over `bytes` (strtod where long double is double).
    public static func strtold(_ bytes: [UInt8]) -> Parsed<CLongDouble> {
        withCString(bytes) { base in
            var end: UnsafeMutablePointer<CChar>? = nil
            vigil_set_errno(0)
            #if arch(x86_64) || arch(i386)
            let r = Glibc.strtold(base, &end)
            #else
            let r = CLongDouble(Glibc.strtod(base, &end))
            #endif
            return Parsed(value: r, consumed: end.map { $0 - base } ?? 0, outOfRange: errno == ERANGE)
        }
    }

    /// strtoull in base 10 over `bytes` (`-1` wraps, as in C).
    public static func strtoull(_ bytes: [UInt8]) -> Parsed<UInt64> {
        withCString(bytes) { base in
            var end: UnsafeMutablePointer<CChar>? = nil
            vigil_set_errno(0)
            let r = Glibc.strtoull(base, &end, 10)
            return Parsed(value: UInt64(r), consumed: end.map { $0 - base } ?? 0, outOfRange: errno == ERANGE)
        }
    }

    private static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafeMutablePointer<CChar>) -> R) -> R {
        var cs = bytes.map { CChar(bitPattern: $0) }
        cs.append(0)
        return cs.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
