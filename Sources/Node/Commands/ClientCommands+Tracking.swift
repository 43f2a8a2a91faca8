// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO (client-side caching, Tracking.swift), with
// Redis 7.0's option checks and error texts in its order.
import Shared

extension Server {
    /// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
    func clientTrackingCommand(_ c: Client) throws {
        var redirect = 0
        var options: TrackingFlags = []
        var prefixes: [Bytes] = []
        var j = 3
        while j < c.argc {
            let more = c.argc - 1 - j
            switch c.option(j) {
            case "REDIRECT" where more > 0:
                j += 1
                guard redirect == 0 else { throw CommandError("ERR A client can only redirect to a single other client") }
                guard let id = NumberFormat.parseInt(c.arg(j)) else { throw CommandError.notInteger }
                guard clients[Int(id)] != nil else { throw CommandError("ERR The client ID you want redirect to does not exist") }
                redirect = Int(id)
            case "BCAST": options.insert(.bcast)
            case "OPTIN": options.insert(.optin)
            case "OPTOUT": options.insert(.optout)
            case "NOLOOP": options.insert(.noloop)
            case "PREFIX" where more > 0:
                j += 1
                prefixes.append(c.arg(j))
            default:
                throw CommandError.syntax
            }
            j += 1
        }
        switch c.option(2) {
        case "ON":
            if !options.contains(.bcast) && !prefixes.isEmpty {
                throw CommandError("ERR PREFIX option requires BCAST mode to be enabled")
            }
            if c.flags.contains(.tracking) && c.tracking.contains(.bcast) != options.contains(.bcast) {
                throw CommandError("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            if options.contains(.bcast) && !options.isDisjoint(with: [.optin, .optout]) {
                throw CommandError("ERR OPTIN and OPTOUT are not compatible with BCAST")
            }
            if options.isSuperset(of: [.optin, .optout]) {
                throw CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode")
            }
            if (options.contains(.optin) && c.tracking.contains(.optout)) || (options.contains(.optout) && c.tracking.contains(.optin)) {
                throw CommandError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            if options.contains(.bcast), let collision = trackingPrefixCollision(c, prefixes) {
                throw CommandError(collision)
            }
            enableTracking(c, redirect: redirect, options: options, prefixes: prefixes)
        case "OFF":
            disableTracking(c)
        default:
            throw CommandError.syntax
        }
        c.out.ok()
    }

    /// CLIENT CACHING YES|NO: the next command is (not) tracked, in OPTIN (OPTOUT) mode.
    func clientCachingCommand(_ c: Client) throws {
        guard c.flags.contains(.tracking) else {
            throw CommandError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
        }
        switch c.option(2) {
        case "YES":
            guard c.tracking.contains(.optin) else { throw CommandError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.") }
        case "NO":
            guard c.tracking.contains(.optout) else { throw CommandError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.") }
        default:
            throw CommandError.syntax
        }
        c.tracking.insert(.caching)
        c.out.ok()
    }

    /// The redirect target of a tracking client (0: none), -1 without tracking.
    func trackingRedirectField(_ c: Client) -> Int { c.flags.contains(.tracking) ? c.trackingRedirect : -1 }

    /// CLIENT TRACKINGINFO: flags, redirect and prefixes.
    func clientTrackingInfoCommand(_ c: Client) {
        var flags = [c.flags.contains(.tracking) ? "on" : "off"]
        if c.tracking.contains(.bcast) { flags.append("bcast") }
        if c.tracking.contains(.optin) {
            flags.append("optin")
            if c.tracking.contains(.caching) { flags.append("caching-yes") }
        }
        if c.tracking.contains(.optout) {
            flags.append("optout")
            if c.tracking.contains(.caching) { flags.append("caching-no") }
        }
        if c.tracking.contains(.noloop) { flags.append("noloop") }
        if c.tracking.contains(.brokenRedirect) { flags.append("broken_redirect") }
        c.out.mapHeader(3)
        c.out.bulk("flags")
        c.out.setHeader(flags.count)
        for f in flags { c.out.bulk(f) }
        c.out.bulk("redirect")
        c.out.integer(trackingRedirectField(c))
        c.out.bulk("prefixes")
        c.out.bulks(c.trackingPrefixes.sorted { $0.lexicographicallyPrecedes($1) })
    }
}
