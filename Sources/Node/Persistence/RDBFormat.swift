// Constants of the RDB file format (Redis's rdb.h) and the errors and results of loading.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// RDB object types and opcodes, as in rdb.h.
enum RDB {
    /// Redis's debugDelay for the test directives key-load-delay and rdb-key-save-delay: `d`
    /// microseconds per key, or, negative (-N), one microsecond every N keys (`count` so far).
    static func debugDelay(_ d: Int, count: Int) {
        if d < 0 && count % -d != 0 { return }
        let micros = max(1, d)
        var ts = timespec(tv_sec: micros / 1_000_000, tv_nsec: (micros % 1_000_000) * 1000)
        var rest = timespec()
        while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
    }

    /// The version we write (Redis 7.0).
    static let version = 10
    /// The newest version we read (Redis 7.2 writes 11).
    static let maxReadVersion = 11

    /// Object types (the byte before a key).
    static let typeString: UInt8 = 0
    static let typeList: UInt8 = 1
    static let typeSet: UInt8 = 2
    static let typeZset: UInt8 = 3
    static let typeHash: UInt8 = 4
    static let typeZset2: UInt8 = 5
    static let typeModule: UInt8 = 6
    static let typeModule2: UInt8 = 7
    static let typeHashZipmap: UInt8 = 9
    static let typeListZiplist: UInt8 = 10
    static let typeSetIntset: UInt8 = 11
    static let typeZsetZiplist: UInt8 = 12
    static let typeHashZiplist: UInt8 = 13
    static let typeListQuicklist: UInt8 = 14
    static let typeStreamListpacks: UInt8 = 15
    static let typeHashListpack: UInt8 = 16
    static let typeZsetListpack: UInt8 = 17
    static let typeListQuicklist2: UInt8 = 18
    static let typeStreamListpacks2: UInt8 = 19
    static let typeSetListpack: UInt8 = 20
    static let typeStreamListpacks3: UInt8 = 21

    /// Opcodes (bytes that are not object types).
    static let opFunction2: UInt8 = 245
    static let opFunctionPreGA: UInt8 = 246
    static let opModuleAux: UInt8 = 247
    static let opIdle: UInt8 = 248
    static let opFreq: UInt8 = 249
    static let opAux: UInt8 = 250
    static let opResizeDB: UInt8 = 251
    static let opExpireTimeMs: UInt8 = 252
    static let opExpireTime: UInt8 = 253
    static let opSelectDB: UInt8 = 254
    static let opEOF: UInt8 = 255

    /// Special string encodings (length byte 11xxxxxx).
    static let encInt8 = 0, encInt16 = 1, encInt32 = 2, encLZF = 3

    /// Quicklist 2 node containers.
    static let quicklistNodePlain = 1, quicklistNodePacked = 2
}

/// A malformed or unsupported RDB: what went wrong and at which byte offset.
struct RDBError: Error, CustomStringConvertible {
    let message: String
    let offset: Int
    /// The file the bytes came from, when known (set by the loader).
    var file: String? = nil

    var description: String {
        if let file { return "\(file): \(message) at offset \(offset)" }
        return "\(message) at offset \(offset)"
    }
}

/// What an RDB held: one entry list per database, plus the AUX fields.
struct RDBContents {
    /// One database's keys and their expiries (unix ms), ready to install.
    struct LoadedDB {
        /// The keys, with the access metadata the file's IDLE/FREQ fields gave them.
        var dict: KeyTable
        var expires: [Key: Int64] = [:]
        /// An empty database whose keys are stamped by `aging`.
        init(aging: KeyAging = KeyAging()) { dict = KeyTable(aging: aging) }
    }
    /// Databases by index (only those holding keys).
    var databases: [Int: LoadedDB] = [:]
    var aux: [String: Bytes] = [:]
    /// Keys skipped because they had already expired.
    var expiredSkipped = 0
    /// Things skipped that the caller should log (function libraries...).
    var warnings: [String] = []
    var version = 0
    /// Function libraries' codes, in file order.
    var functions: [Bytes] = []

    /// Total number of keys loaded.
    var keyCount: Int { databases.values.reduce(0) { $0 + $1.dict.count } }
}
