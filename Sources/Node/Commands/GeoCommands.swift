// GEO commands on sorted sets (geo.c): a member's score is its 52-bit geohash (GeoHash.swift).
// GEOADD is ZADD with computed scores and propagates as that ZADD, as in Redis; the searches
// (GEORADIUS*, GEOSEARCH*) live in GeoCommands+Search.swift.
import Shared

extension CommandTable {
    static var geo: [CommandSpec] {
        let r: CommandFlags = [.readonly]
        let w: CommandFlags = [.write, .denyOOM]
        let rc = ["read", "geo", "slow"], wc = ["write", "geo", "slow"]
        let k1 = (1, 1, 1)
        /// GEORADIUS[BYMEMBER] keys as COMMAND GETKEYS reports them from the key specs: the source,
        /// then the key after the first STORE, then the one after the first STOREDIST, each keyword
        /// searched from the first option on.
        func radiusKeys(_ from: Int) -> ([Bytes]) -> [Int] {
            { argv in
                var keys = [1]
                for word in ["store", "storedist"] {
                    var i = from
                    while i < argv.count - 1 {
                        if argv[i].text.lowercased() == word { keys.append(i + 1); break }
                        i += 1
                    }
                }
                return keys
            }
        }
        return [
            CommandSpec("geoadd", -5, w, wc, keys: k1) { s, c in try s.geoaddCommand(c) },
            CommandSpec("geodist", -4, r, rc, keys: k1) { s, c in try s.geodistCommand(c) },
            CommandSpec("geohash", -2, r, rc, keys: k1) { s, c in try s.geohashCommand(c) },
            CommandSpec("geopos", -2, r, rc, keys: k1) { s, c in try s.geoposCommand(c) },
            CommandSpec("georadius", -6, w, wc, keys: k1) { s, c in try s.geoSearch(c, .radius(fromMember: false, store: true)) }
                .movable(radiusKeys(6)),
            CommandSpec("georadius_ro", -6, r, rc, keys: k1) { s, c in try s.geoSearch(c, .radius(fromMember: false, store: false)) },
            CommandSpec("georadiusbymember", -5, w, wc, keys: k1) { s, c in try s.geoSearch(c, .radius(fromMember: true, store: true)) }
                .movable(radiusKeys(5)),
            CommandSpec("georadiusbymember_ro", -5, r, rc, keys: k1) { s, c in try s.geoSearch(c, .radius(fromMember: true, store: false)) },
            CommandSpec("geosearch", -7, r, rc, keys: k1) { s, c in try s.geoSearch(c, .search(store: false)) },
            CommandSpec("geosearchstore", -8, w, wc, keys: (1, 2, 1)) { s, c in try s.geoSearch(c, .search(store: true)) },
        ]
    }
}

extension Server {
    // MARK: - Arguments

    /// A longitude/latitude pair, validated against the geohash limits (extractLongLatOrReply).
    func geoLonLat(_ lon: Bytes, _ lat: Bytes) throws -> (Double, Double) {
        guard let x = NumberFormat.parseDouble(lon), let y = NumberFormat.parseDouble(lat) else { throw CommandError.notFloat }
        if x < GeoHash.lonMin || x > GeoHash.lonMax || y < GeoHash.latMin || y > GeoHash.latMax {
            throw CommandError("ERR invalid longitude,latitude pair \(NumberFormat.printf("%f", x)),\(NumberFormat.printf("%f", y))")
        }
        return (x, y)
    }

    /// A unit's size in meters: m, km, ft or mi (any case).
    func geoUnit(_ b: Bytes) throws -> Double {
        switch b.text.lowercased() {
        case "m": return 1
        case "km": return 1000
        case "ft": return 0.3048
        case "mi": return 1609.34
        default: throw CommandError("ERR unsupported unit provided. please use M, KM, FT, MI")
        }
    }

    /// A distance as GEODIST and WITHDIST print it: four decimals (fixedpoint_d2string).
    static func geoDistanceText(_ d: Double) -> Bytes {
        if d == 0 { return Array("0.0000".utf8) }
        let scaled = (d * 10000).rounded(.toNearestOrEven)
        // llrint of something outside the long long range is LLONG_MIN.
        let v: Int64 = scaled.isFinite && scaled >= -9.2233720368547758e18 && scaled < 9.2233720368547758e18
            ? Int64(scaled) : .min
        let neg = v < 0
        let mag = v.magnitude
        var digits = String(mag)
        if digits.count < 5 { digits = String(repeating: "0", count: 5 - digits.count) + digits }
        let cut = digits.index(digits.endIndex, offsetBy: -4)
        return Array(((neg ? "-" : "") + digits[..<cut] + "." + digits[cut...]).utf8)
    }

    /// A coordinate reply: `%.17Lf` trimmed, as a bulk string in RESP2 and a double in RESP3.
    func replyCoordinate(_ c: Client, _ v: Double) {
        let s = LongDouble.humanString(LongDouble(v))
        if c.proto >= 3 { c.out.raw(","); c.out.raw(s); c.out.raw("\r\n") } else { c.out.bulk(s) }
    }

    // MARK: - GEOADD

    /// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with geohash scores.
    func geoaddCommand(_ c: Client) throws {
        var first = 2, nx = false, xx = false
        // Options are two letters: compared as bytes, no String per argument.
        scan: while first < c.argc {
            let a = c.argv[first]
            guard a.count == 2 else { break }
            switch (a[0] | 0x20, a[1] | 0x20) {
            case (UInt8(ascii: "n"), UInt8(ascii: "x")): nx = true
            case (UInt8(ascii: "x"), UInt8(ascii: "x")): xx = true
            case (UInt8(ascii: "c"), UInt8(ascii: "h")): break  // ZADD handles it
            default: break scan
            }
            first += 1
        }
        if (c.argc - first) % 3 != 0 || (nx && xx) { throw CommandError.syntax }
        var zadd: [Bytes] = [Array("zadd".utf8)] + c.argv[1..<first]
        for i in stride(from: first, to: c.argc, by: 3) {
            let (lon, lat) = try geoLonLat(c.arg(i), c.arg(i + 1))
            var digits = RESPWriter()
            digits.decimal(Int(GeoHash.score(lon: lon, lat: lat) ?? 0))
            zadd.append(digits.bytes)
            zadd.append(c.arg(i + 2))
        }
        let original = c.argv
        c.argv = zadd
        defer { c.argv = original }
        try zaddCommand(c)
        c.argv = original
        propagateDataWrite(c, as: [zadd])
    }

    // MARK: - GEODIST, GEOHASH, GEOPOS

    func geodistCommand(_ c: Client) throws {
        var toMeters = 1.0
        if c.argc == 5 {
            toMeters = try geoUnit(c.arg(4))
        } else if c.argc > 5 {
            throw CommandError.syntax
        }
        guard let z = try readZSet(c.db, c.key(1)) else { c.out.null(); return }
        guard let s1 = z.score(c.key(2)), let s2 = z.score(c.key(3)) else { c.out.null(); return }
        let a = GeoHash.position(ofScore: s1), b = GeoHash.position(ofScore: s2)
        c.out.bulk(Server.geoDistanceText(GeoHash.distance(a.lon, a.lat, b.lon, b.lat) / toMeters))
    }

    func geohashCommand(_ c: Client) throws {
        let z = try readZSet(c.db, c.key(1))
        c.out.arrayHeader(c.argc - 2)
        for i in 2..<c.argc {
            if let score = z?.score(c.key(i)) { c.out.bulk(GeoHash.standardString(ofScore: score)) } else { c.out.null() }
        }
    }

    func geoposCommand(_ c: Client) throws {
        let z = try readZSet(c.db, c.key(1))
        c.out.arrayHeader(c.argc - 2)
        for i in 2..<c.argc {
            guard let score = z?.score(c.key(i)) else { c.out.nullArray(); continue }
            let p = GeoHash.position(ofScore: score)
            c.out.arrayHeader(2)
            replyCoordinate(c, p.lon)
            replyCoordinate(c, p.lat)
        }
    }
}
