// Redis's 52-bit geohash (geohash.c, geohash_helper.c): a position is a sorted-set score made of
// 26 bits of longitude and 26 of latitude, interleaved, over latitudes ±85.05112878 (the Web
// Mercator limits). The same floating-point steps as Redis, on the same libm, so scores,
// decoded positions and distances are identical bit for bit.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// Geohash bits at a precision of `step` bits per coordinate.
struct GeoHashBits: Equatable {
    var bits: UInt64
    var step: Int
    /// The "no area" marker (both zero), used for pruned neighbours.
    static let zero = GeoHashBits(bits: 0, step: 0)
    var isZero: Bool { bits == 0 && step == 0 }
}

/// A longitude/latitude box.
struct GeoHashArea {
    var hash: GeoHashBits
    var lonMin: Double, lonMax: Double
    var latMin: Double, latMax: Double
}

/// A search shape: a circle (radius) or a box (width × height), in the user's unit;
/// `conversion` turns that unit into meters.
struct GeoShape {
    enum Kind { case circle(radius: Double), box(width: Double, height: Double) }
    var kind: Kind
    var lon: Double
    var lat: Double
    var conversion: Double
}

/// The geohash arithmetic Redis uses.
enum GeoHash {
    static let stepMax = 26
    static let latMin = -85.05112878, latMax = 85.05112878
    static let lonMin = -180.0, lonMax = 180.0
    static let earthRadius = 6372797.560856
    static let mercatorMax = 20037726.37
    static let degToRad = Double.pi / 180.0

    @inline(__always) static func rad(_ d: Double) -> Double { d * degToRad }
    @inline(__always) static func deg(_ r: Double) -> Double { r / degToRad }

    // MARK: - Bit interleaving

    /// Spreads the bits of x into the even positions and y into the odd ones.
    static func interleave(_ xlo: UInt32, _ ylo: UInt32) -> UInt64 {
        @inline(__always) func spread(_ v: UInt32) -> UInt64 {
            var x = UInt64(v)
            x = (x | (x << 16)) & 0x0000FFFF0000FFFF
            x = (x | (x << 8)) & 0x00FF00FF00FF00FF
            x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0F
            x = (x | (x << 2)) & 0x3333333333333333
            x = (x | (x << 1)) & 0x5555555555555555
            return x
        }
        return spread(xlo) | (spread(ylo) << 1)
    }

    /// The inverse: even bits in the low word, odd bits in the high word.
    static func deinterleave(_ v: UInt64) -> UInt64 {
        @inline(__always) func squash(_ v: UInt64) -> UInt64 {
            var x = v & 0x5555555555555555
            x = (x | (x >> 1)) & 0x3333333333333333
            x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
            x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
            x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
            x = (x | (x >> 16)) & 0x00000000FFFFFFFF
            return x
        }
        return squash(v) | (squash(v >> 1) << 32)
    }

    // MARK: - Encoding and decoding

    /// The hash of a position within the given ranges; nil outside them.
    static func encode(lon: Double, lat: Double, step: Int,
                       lonRange: (Double, Double) = (lonMin, lonMax), latRange: (Double, Double) = (latMin, latMax)) -> GeoHashBits? {
        guard step > 0, step <= 32 else { return nil }
        if lon > lonMax || lon < lonMin || lat > latMax || lat < latMin { return nil }
        guard !(lon.isNaN || lat.isNaN), lat >= latRange.0, lat <= latRange.1, lon >= lonRange.0, lon <= lonRange.1 else { return nil }
        var latOffset = (lat - latRange.0) / (latRange.1 - latRange.0)
        var lonOffset = (lon - lonRange.0) / (lonRange.1 - lonRange.0)
        latOffset *= Double(UInt64(1) << UInt64(step))
        lonOffset *= Double(UInt64(1) << UInt64(step))
        return GeoHashBits(bits: interleave(UInt32(latOffset), UInt32(lonOffset)), step: step)
    }

    /// The area a hash stands for.
    static func decode(_ hash: GeoHashBits, lonRange: (Double, Double) = (lonMin, lonMax),
                       latRange: (Double, Double) = (latMin, latMax)) -> GeoHashArea? {
        if hash.isZero { return nil }
        let sep = deinterleave(hash.bits)
        let latScale = latRange.1 - latRange.0, lonScale = lonRange.1 - lonRange.0
        let ilat = UInt32(truncatingIfNeeded: sep), ilon = UInt32(truncatingIfNeeded: sep >> 32)
        let div = Double(UInt64(1) << UInt64(hash.step))
        return GeoHashArea(hash: hash,
                           lonMin: lonRange.0 + (Double(ilon) * 1.0 / div) * lonScale,
                           // `ilon + 1` in 32-bit arithmetic, as Redis computes it (it wraps only for
                           // scores that are not geohashes).
                           lonMax: lonRange.0 + (Double(ilon &+ 1) * 1.0 / div) * lonScale,
                           latMin: latRange.0 + (Double(ilat) * 1.0 / div) * latScale,
                           latMax: latRange.0 + (Double(ilat &+ 1) * 1.0 / div) * latScale)
    }

    /// The centre of a sorted-set score's area, clamped to the valid ranges (decodeGeohash).
    static func position(ofScore score: Double) -> (lon: Double, lat: Double) {
        // A step-26 hash is never the zero marker, so decoding cannot fail.
        guard let area = decode(GeoHashBits(bits: cUInt64(score), step: stepMax)) else { return (0, 0) }
        var lon = (area.lonMin + area.lonMax) / 2
        var lat = (area.latMin + area.latMax) / 2
        lon = min(max(lon, lonMin), lonMax)
        lat = min(max(lat, latMin), latMax)
        return (lon, lat)
    }

    /// The 52-bit score of a position (geohashAlign52Bits of the step-26 hash).
    static func score(lon: Double, lat: Double) -> UInt64? {
        encode(lon: lon, lat: lat, step: stepMax).map(align52)
    }

    @inline(__always) static func align52(_ h: GeoHashBits) -> UInt64 { h.bits << UInt64(52 - h.step * 2) }

    /// C's `(uint64_t)double` as x86-64 compiles it, for scores that are not geohashes (Redis
    /// decodes any score): truncation, with out-of-range values giving the "indefinite" integer.
    static func cUInt64(_ d: Double) -> UInt64 {
        let two63 = 9223372036854775808.0
        func cvt(_ x: Double) -> UInt64 {
            guard !x.isNaN, x >= -two63, x < two63 else { return 1 << 63 }
            return UInt64(bitPattern: Int64(x))
        }
        return d < two63 ? cvt(d) : cvt(d - two63) ^ (1 << 63)
    }

    /// The 11-character standard geohash of a score (re-encoded over ±90° latitude).
    static func standardString(ofScore score: Double) -> Bytes {
        let alphabet = Array("0123456789bcdefghjkmnpqrstuvwxyz".utf8)
        let p = position(ofScore: score)
        let bits = encode(lon: p.lon, lat: p.lat, step: 26, lonRange: (-180, 180), latRange: (-90, 90))?.bits ?? 0
        var out = Bytes()
        for i in 0..<11 {
            let idx = i == 10 ? 0 : Int((bits >> UInt64(52 - (i + 1) * 5)) & 0x1f)
            out.append(alphabet[idx])
        }
        return out
    }

    // MARK: - Neighbours

    private static func moveX(_ h: inout GeoHashBits, _ d: Int) {
        guard d != 0 else { return }
        var x = h.bits & 0xaaaaaaaaaaaaaaaa
        let y = h.bits & 0x5555555555555555
        let zz: UInt64 = 0x5555555555555555 >> UInt64(64 - h.step * 2)
        if d > 0 { x = x &+ (zz &+ 1) } else { x = x | zz; x = x &- (zz &+ 1) }
        x &= 0xaaaaaaaaaaaaaaaa >> UInt64(64 - h.step * 2)
        h.bits = x | y
    }

    private static func moveY(_ h: inout GeoHashBits, _ d: Int) {
        guard d != 0 else { return }
        let x = h.bits & 0xaaaaaaaaaaaaaaaa
        var y = h.bits & 0x5555555555555555
        let zz: UInt64 = 0xaaaaaaaaaaaaaaaa >> UInt64(64 - h.step * 2)
        if d > 0 { y = y &+ (zz &+ 1) } else { y = y | zz; y = y &- (zz &+ 1) }
        y &= 0x5555555555555555 >> UInt64(64 - h.step * 2)
        h.bits = x | y
    }

    private static func moved(_ h: GeoHashBits, _ dx: Int, _ dy: Int) -> GeoHashBits {
        var n = h
        moveX(&n, dx)
        moveY(&n, dy)
        return n
    }

    // MARK: - Distances

    /// Distance along a meridian (haversine when the longitudes are equal).
    static func latDistance(_ lat1: Double, _ lat2: Double) -> Double {
        earthRadius * fabs(rad(lat2) - rad(lat1))
    }

    /// Haversine great-circle distance in meters.
    static func distance(_ lon1d: Double, _ lat1d: Double, _ lon2d: Double, _ lat2d: Double) -> Double {
        let lon1r = rad(lon1d), lon2r = rad(lon2d)
        let v = sin((lon2r - lon1r) / 2)
        if v == 0 { return latDistance(lat1d, lat2d) }
        let lat1r = rad(lat1d), lat2r = rad(lat2d)
        let u = sin((lat2r - lat1r) / 2)
        let a = u * u + cos(lat1r) * cos(lat2r) * v * v
        return 2.0 * earthRadius * asin(sqrt(a))
    }

    /// Whether a point (score's position) is inside the shape; its position and distance from the
    /// centre when it is (geoWithinShape).
    static func within(_ shape: GeoShape, score: Double) -> (lon: Double, lat: Double, dist: Double)? {
        let p = position(ofScore: score)
        switch shape.kind {
        case .circle(let radius):
            let d = distance(shape.lon, shape.lat, p.lon, p.lat)
            return d > radius * shape.conversion ? nil : (p.lon, p.lat, d)
        case .box(let width, let height):
            let w = width * shape.conversion, h = height * shape.conversion
            if latDistance(p.lat, shape.lat) > h / 2 { return nil }
            if distance(p.lon, p.lat, shape.lon, p.lat) > w / 2 { return nil }
            return (p.lon, p.lat, distance(shape.lon, shape.lat, p.lon, p.lat))
        }
    }

    // MARK: - Search areas

    /// Precision (bits per coordinate) for the 9 boxes covering a radius at a latitude.
    static func estimateSteps(radius: Double, lat: Double) -> Int {
        if radius == 0 { return 26 }
        var r = radius
        var step = 1
        while r < mercatorMax {
            r *= 2
            step += 1
        }
        step -= 2
        if lat > 66 || lat < -66 {
            step -= 1
            if lat > 80 || lat < -80 { step -= 1 }
        }
        return min(max(step, 1), 26)
    }

    /// The shape's bounding box: (min lon, min lat, max lon, max lat).
    static func boundingBox(_ s: GeoShape) -> (Double, Double, Double, Double) {
        let height: Double, width: Double
        switch s.kind {
        case .circle(let r): height = s.conversion * r; width = s.conversion * r
        case .box(let w, let h): height = s.conversion * (h / 2); width = s.conversion * (w / 2)
        }
        let latDelta = deg(height / earthRadius)
        let lonDeltaTop = deg(width / earthRadius / cos(rad(s.lat + latDelta)))
        let lonDeltaBottom = deg(width / earthRadius / cos(rad(s.lat - latDelta)))
        let south = s.lat < 0
        return (south ? s.lon - lonDeltaBottom : s.lon - lonDeltaTop, s.lat - latDelta,
                south ? s.lon + lonDeltaBottom : s.lon + lonDeltaTop, s.lat + latDelta)
    }

    /// The centre box and its 8 neighbours covering the shape, in Redis's search order (centre,
    /// N, S, E, W, NE, NW, SE, SW); boxes that cannot hold results are zero
    /// (geohashCalculateAreasByShapeWGS84).
    static func searchAreas(_ s: GeoShape) -> [GeoHashBits] {
        let (minLon, minLat, maxLon, maxLat) = boundingBox(s)
        let radius: Double
        switch s.kind {
        case .circle(let r): radius = r * s.conversion
        case .box(let w, let h): radius = ((w / 2) * (w / 2) + (h / 2) * (h / 2)).squareRoot() * s.conversion
        }
        var steps = estimateSteps(radius: radius, lat: s.lat)
        func areas(_ steps: Int) -> (GeoHashBits, [GeoHashBits], GeoHashArea?) {
            let hash = encode(lon: s.lon, lat: s.lat, step: steps) ?? GeoHashBits(bits: 0, step: steps)
            let n = [moved(hash, 0, 1), moved(hash, 0, -1), moved(hash, 1, 0), moved(hash, -1, 0),
                     moved(hash, 1, 1), moved(hash, -1, 1), moved(hash, 1, -1), moved(hash, -1, -1)]
            return (hash, n, decode(hash))
        }
        var (hash, n, area) = areas(steps)
        // One step coarser when a side neighbour does not reach the bounding box's edge.
        var decrease = false
        if let north = decode(n[0]), north.latMax < maxLat { decrease = true }
        if let south = decode(n[1]), south.latMin > minLat { decrease = true }
        if let east = decode(n[2]), east.lonMax < maxLon { decrease = true }
        if let west = decode(n[3]), west.lonMin > minLon { decrease = true }
        if steps > 1 && decrease {
            steps -= 1
            (hash, n, area) = areas(steps)
        }
        // n: 0 north, 1 south, 2 east, 3 west, 4 north-east, 5 north-west, 6 south-east, 7 south-west.
        if steps >= 2, let a = area {
            if a.latMin < minLat { n[1] = .zero; n[7] = .zero; n[6] = .zero }
            if a.latMax > maxLat { n[0] = .zero; n[4] = .zero; n[5] = .zero }
            if a.lonMin < minLon { n[3] = .zero; n[7] = .zero; n[5] = .zero }
            if a.lonMax > maxLon { n[2] = .zero; n[6] = .zero; n[4] = .zero }
        }
        return [hash] + n
    }

    /// The score range [min, max) holding every point inside `hash`'s box.
    static func scoreRange(_ hash: GeoHashBits) -> (Double, Double) {
        var next = hash
        next.bits &+= 1
        return (Double(align52(hash)), Double(align52(next)))
    }
}
