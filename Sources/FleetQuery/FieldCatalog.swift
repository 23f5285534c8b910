// FleetQuery: which fields exist and which indexing modes are on. The Binder resolves
// every field path against it.

/// The searchable fields, shaped by the indexing configuration.
public struct FieldCatalog: Equatable, Sendable {
    /// `thingIndexingMode`: registry fields; shadows need `shadow` too.
    public var registry = true
    public var shadow = true
    public var connectivity = true
    public var deviceDefender = true
    public var namedShadows = true

    public init(registry: Bool = true, shadow: Bool = true, connectivity: Bool = true,
                deviceDefender: Bool = true, namedShadows: Bool = true) {
        self.registry = registry
        self.shadow = shadow
        self.connectivity = connectivity
        self.deviceDefender = deviceDefender
        self.namedShadows = namedShadows
    }

    /// The field roots, for "did you mean" suggestions.
    public static let roots = ["thingName", "thingId", "thingTypeName", "thingGroupNames", "attributes",
                               "shadow", "connectivity", "deviceDefender"]
}
