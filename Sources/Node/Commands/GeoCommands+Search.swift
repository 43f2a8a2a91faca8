// GEORADIUS, GEORADIUSBYMEMBER (and _RO), GEOSEARCH, GEOSEARCHSTORE: Redis's georadiusGeneric.
// The shape's centre box and 8 neighbours (GeoHash.searchAreas) are scanned as score ranges of
// the sorted set, points are kept when inside the shape, then sorted and replied or stored.
// Arguments are checked in Redis's order so the same bad command gets the same error.
import Shared

/// Which search command is running.
enum GeoSearchKind {
    /// GEORADIUS (centre given) or GEORADIUSBYMEMBER; `store` false for the _RO variants.
    case radius(fromMember: Bool, store: Bool)
    /// GEOSEARCH or GEOSEARCHSTORE.
    case search(store: Bool)
}

/// A point found by a search.
private struct GeoPoint {
    var member: Bytes
    var lon: Double
    var lat: Double
    var dist: Double
    var score: Double
}

extension Server {
    /// A `<radius> <unit>` pair: (radius, meters per unit).
    private func geoRadius(_ n: Bytes, _ unit: Bytes) throws -> (Double, Double) {
        guard let r = NumberFormat.parseDouble(n) else { throw CommandError("ERR need numeric radius") }
        if r < 0 { throw CommandError("ERR radius cannot be negative") }
        return (r, try geoUnit(unit))
    }

    /// A `<width> <height> <unit>` triple.
    private func geoBox(_ w: Bytes, _ h: Bytes, _ unit: Bytes) throws -> (Double, Double, Double) {
        guard let width = NumberFormat.parseDouble(w) else { throw CommandError("ERR need numeric width") }
        guard let height = NumberFormat.parseDouble(h) else { throw CommandError("ERR need numeric height") }
        if height < 0 || width < 0 { throw CommandError("ERR height or width cannot be negative") }
        return (width, height, try geoUnit(unit))
    }

    private func memberPosition(_ z: SortedSetValue, _ member: Bytes) throws -> (lon: Double, lat: Double) {
        guard let score = z.score(Key(member)) else { throw CommandError("ERR could not decode requested zset member") }
        return GeoHash.position(ofScore: score)
    }

    /// The shared implementation of every GEO search command.
    func geoSearch(_ c: Client, _ kind: GeoSearchKind) throws {
        var isSearch = false, searchStore = false, noStore = false, byMember = false, byCoords = false
        switch kind {
        case .radius(let fromMember, let store): byMember = fromMember; byCoords = !fromMember; noStore = !store
        case .search(let store): isSearch = true; searchStore = store
        }
        let src = c.key(searchStore ? 2 : 1)
        let z = try readZSet(c.db, src)
        var shape = GeoShape(kind: .circle(radius: 0), lon: 0, lat: 0, conversion: 1)
        var base: Int
        var storeKey: Bytes? = nil
        var storeDist = false
        if byCoords {
            base = 6
            (shape.lon, shape.lat) = try geoLonLat(c.arg(2), c.arg(3))
            let (r, conv) = try geoRadius(c.arg(4), c.arg(5))
            shape.kind = .circle(radius: r)
            shape.conversion = conv
        } else if byMember {
            base = 5
            if let z {
                (shape.lon, shape.lat) = try memberPosition(z, c.arg(2))
                let (r, conv) = try geoRadius(c.arg(3), c.arg(4))
                shape.kind = .circle(radius: r)
                shape.conversion = conv
            }
        } else {
            base = searchStore ? 3 : 2
            if searchStore { storeKey = c.arg(1) }
        }

        var withDist = false, withHash = false, withCoord = false
        var fromMember = false, fromLoc = false, byRadius = false, byBox = false
        enum Order { case none, asc, desc }
        var order = Order.none
        var any = false
        var count = 0
        var i = base
        while i < c.argc {
            let arg = c.arg(i).text.lowercased()
            let more = c.argc - i - 1
            switch arg {
            case "withdist": withDist = true
            case "withhash": withHash = true
            case "withcoord": withCoord = true
            case "any": any = true
            case "asc": order = .asc
            case "desc": order = .desc
            case "count" where more >= 1:
                let n = try integerArgument(c.arg(i + 1))
                if n <= 0 { throw CommandError("ERR COUNT must be > 0") }
                count = Int(n)
                i += 1
            case "store" where more >= 1 && !noStore && !isSearch:
                storeKey = c.arg(i + 1); storeDist = false; i += 1
            case "storedist" where more >= 1 && !noStore && !isSearch:
                storeKey = c.arg(i + 1); storeDist = true; i += 1
            case "storedist" where isSearch && searchStore:
                storeDist = true
            case "frommember" where more >= 1 && isSearch && !fromLoc:
                if let z { (shape.lon, shape.lat) = try memberPosition(z, c.arg(i + 1)) }
                fromMember = true
                i += 1
            case "fromlonlat" where more >= 2 && isSearch && !fromMember:
                (shape.lon, shape.lat) = try geoLonLat(c.arg(i + 1), c.arg(i + 2))
                fromLoc = true
                i += 2
            case "byradius" where more >= 2 && isSearch && !byBox:
                let (r, conv) = try geoRadius(c.arg(i + 1), c.arg(i + 2))
                shape.kind = .circle(radius: r)
                shape.conversion = conv
                byRadius = true
                i += 2
            case "bybox" where more >= 3 && isSearch && !byRadius:
                let (w, h, conv) = try geoBox(c.arg(i + 1), c.arg(i + 2), c.arg(i + 3))
                shape.kind = .box(width: w, height: h)
                shape.conversion = conv
                byBox = true
                i += 3
            default:
                throw CommandError.syntax
            }
            i += 1
        }
        if storeKey != nil && (withDist || withHash || withCoord) {
            throw CommandError("ERR \(searchStore ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS") is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        }
        if isSearch && !(fromMember || fromLoc) {
            throw CommandError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for \(c.arg(0).text)")
        }
        if isSearch && !(byRadius || byBox) {
            throw CommandError("ERR exactly one of BYRADIUS and BYBOX can be specified for \(c.arg(0).text)")
        }
        if any && count == 0 { throw CommandError("ERR the ANY argument requires COUNT argument") }

        guard let z else {
            if let storeKey {
                storeGeoResult(c, Key(storeKey), [])
            } else {
                c.out.arrayHeader(0)
            }
            return
        }
        if count != 0 && order == .none && !any { order = .asc }

        var points = Server.geoPoints(z, shape, limit: any ? count : 0)
        if points.isEmpty && storeKey == nil { c.out.arrayHeader(0); return }
        let returned = count == 0 || points.count < count ? points.count : count
        if order != .none {
            let desc = order == .desc
            let cmp: (GeoPoint, GeoPoint) -> Int = { a, b in
                let r = a.dist > b.dist ? 1 : a.dist == b.dist ? 0 : -1
                return desc ? -r : r
            }
            if returned == points.count {
                RedisSort.stable(&points, cmp)
            } else {
                RedisSort.partial(&points, lo: 0, hi: returned - 1, cmp)
            }
        }
        if let storeKey {
            storeGeoResult(c, Key(storeKey), points.prefix(returned).map { ($0.member, storeDist ? $0.dist / shape.conversion : $0.score) })
            return
        }
        let options = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0)
        c.out.arrayHeader(returned)
        for p in points.prefix(returned) {
            if options > 0 { c.out.arrayHeader(options + 1) }
            c.out.bulk(p.member)
            if withDist { c.out.bulk(Server.geoDistanceText(p.dist / shape.conversion)) }
            if withHash { c.out.integer(Int(exactly: p.score.rounded(.towardZero)) ?? Int.min) }
            if withCoord {
                c.out.arrayHeader(2)
                replyCoordinate(c, p.lon)
                replyCoordinate(c, p.lat)
            }
        }
    }

    /// Points of `z` inside `shape`, box by box in Redis's order; with a `limit` (ANY) the
    /// scan stops as soon as that many are found.
    private static func geoPoints(_ z: SortedSetValue, _ shape: GeoShape, limit: Int) -> [GeoPoint] {
        let areas = GeoHash.searchAreas(shape)
        var points: [GeoPoint] = []
        var lastProcessed = 0
        for (i, box) in areas.enumerated() {
            if box.isZero { continue }
            // Huge radii can make neighbours coincide: a box equal to the previous one is skipped.
            if lastProcessed != 0 && box == areas[lastProcessed] { continue }
            if !points.isEmpty && limit > 0 && points.count >= limit { break }
            let (min, max) = GeoHash.scoreRange(box)
            var node = z.index.firstNode(scoreAtLeast: min)
            while let n = node, n.score < max {
                if let p = GeoHash.within(shape, score: n.score) {
                    points.append(GeoPoint(member: n.member, lon: p.lon, lat: p.lat, dist: p.dist, score: n.score))
                }
                if limit > 0 && points.count >= limit { break }
                node = n.forward[0]
            }
            lastProcessed = i
        }
        return points
    }

    /// STORE / STOREDIST / GEOSEARCHSTORE: the results replace `key` as a sorted set, or delete it
    /// when there are none. Replicas receive the stored set itself, not the search.
    private func storeGeoResult(_ c: Client, _ key: Key, _ items: [(Bytes, Double)]) {
        let db = c.db
        if items.isEmpty {
            if lookupWrite(db, key) != nil, db.remove(key) != nil { keyWritten(db, key) }
            propagateDataWrite(c, as: [[Array("DEL".utf8), key.bytes]])
            c.out.integer(0)
            return
        }
        let z = SortedSetValue()
        var zadd: [Bytes] = [Array("ZADD".utf8), key.bytes]
        zadd.reserveCapacity(2 + items.count * 2)
        for (member, score) in items {
            z.set(Key(member), score)
            z.noteAdd(member, config)
            zadd.append(Array(NumberFormat.double17g(score).utf8))
            zadd.append(member)
        }
        db.set(key, .zset(z))
        keyWritten(db, key, dirty: items.count)
        propagateDataWrite(c, as: [[Array("DEL".utf8), key.bytes], zadd])
        c.out.integer(items.count)
    }
}

extension SkipList {
    /// The first node whose score is at least `score`, or nil.
    func firstNode(scoreAtLeast score: Double) -> SkipListNode? {
        unowned(unsafe) var x = header
        for i in stride(from: header.levelCount - 1, through: 0, by: -1) {
            while let fu = x.nextUnretained(i) {
                unowned(unsafe) let f = fu.takeUnretainedValue()
                guard f.score < score else { break }
                x = f
            }
        }
        return x.forward[0]
    }
}
