// FleetIndex: which attached security profiles monitor which clients: all things,
// registered things, unregistered clients, or the members of a group and its subgroups.

/// Resolves security profile targets to clients.
struct Monitor {
    let db: FleetDatabase
    init(_ db: FleetDatabase) { self.db = db }

    struct Targets {
        var all = false
        var registered = false
        var unregistered = false
        var groups: [Int64] = []
    }

    func targets(profile: Int64) throws -> Targets {
        var t = Targets()
        for target in try db.profiles.targets(of: profile) {
            switch target.kind {
            case "all": t.all = true
            case "registered": t.registered = true
            case "unregistered": t.unregistered = true
            default: if let g = target.group { t.groups.append(g) }
            }
        }
        return t
    }

    /// Things in any of the groups or below them.
    func groupMembers(_ groups: [Int64]) throws -> Set<Int64> {
        var out = Set<Int64>()
        for g in groups {
            out.formUnion(try db.things.members(ofSubtree: g))
        }
        return out
    }

    /// Does a profile with these targets monitor a client (thing id nil: unregistered)?
    func covers(_ t: Targets, thing: Int64?, members: Set<Int64>) -> Bool {
        if t.all { return true }
        if let thing {
            return t.registered || members.contains(thing)
        }
        return t.unregistered
    }

    /// Is `thing` in one of the groups or below them? (One probe, not the groups' member lists.)
    func isMember(_ thing: Int64, of groups: [Int64]) throws -> Bool {
        for g in groups where try db.things.isMember(thing: thing, ofSubtree: g) {
            return true
        }
        return false
    }

    /// The attached profiles that monitor one client or thing.
    func profiles(client: Int64?, thing: Int64?) throws -> [Defender.Profile] {
        try Defender(db).attachedProfiles().filter { p in
            let t = try targets(profile: p.id)
            if t.all { return true }
            guard let thing else { return t.unregistered }
            return try t.registered || isMember(thing, of: t.groups)
        }
    }
}
