// fleetdex: the registry operations (aws iot names and flags).
import ArgumentParser
import FleetIndex

func example(_ lines: String...) -> String { "Example:\n" + lines.map { "  " + $0 }.joined(separator: "\n") }

struct CreateThing: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-thing", abstract: "Create a thing.",
        discussion: example(#"fleetdex create-thing --thing-name pump-17 --thing-type-name Pump --attribute-payload '{"attributes":{"site":"denver"}}'"#))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var thingTypeName: String?
    @Option(help: "JSON or file://: {\"attributes\":{\"k\":\"v\"}}") var attributePayload: String?
    @Option var billingGroupName: String?
    func run() throws {
        let db = try g.open()
        let attrs = try attributePayload.map { try Registry.attributePayload(structured($0, "--attribute-payload")) }
        Output.emit(try Registry(db).createThing(name: thingName, typeName: thingTypeName, attributes: attrs??.attributes, at: try g.now()), try g.format())
    }
}

struct DescribeThing: ParsableCommand {
    static let configuration = CommandConfiguration(command: "describe-thing", abstract: "Describe a thing.",
        discussion: example("fleetdex describe-thing --thing-name pump-17"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    func run() throws { Output.emit(try Registry(try g.open()).describeThing(name: thingName), try g.format()) }
}

struct UpdateThing: ParsableCommand {
    static let configuration = CommandConfiguration(command: "update-thing", abstract: "Update a thing's type and attributes (merge:true merges; \"\" removes an attribute).",
        discussion: example(#"fleetdex update-thing --thing-name pump-17 --attribute-payload '{"attributes":{"site":"boulder"},"merge":true}'"#))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var thingTypeName: String?
    @Flag var removeThingType = false
    @Option var attributePayload: String?
    @Option var expectedVersion: Int64?
    func run() throws {
        let db = try g.open()
        let p = try attributePayload.map { try Registry.attributePayload(structured($0, "--attribute-payload")) } ?? nil
        Output.emit(try Registry(db).updateThing(name: thingName, typeName: thingTypeName, removeThingType: removeThingType,
                                                 attributePayload: p, expectedVersion: expectedVersion), try g.format())
    }
}

struct DeleteThing: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-thing", abstract: "Delete a thing.",
        discussion: example("fleetdex delete-thing --thing-name pump-17 --expected-version 3"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var expectedVersion: Int64?
    func run() throws {
        Output.emit(try Registry(try g.open()).deleteThing(name: thingName, expectedVersion: expectedVersion, at: try g.now()), try g.format())
    }
}

struct ListThings: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-things", abstract: "List things, optionally by one attribute or a type.",
        discussion: example("fleetdex list-things --attribute-name site --attribute-value denver --max-results 50"))
    @OptionGroup var g: GlobalOptions
    @Option var attributeName: String?
    @Option var attributeValue: String?
    @Option var thingTypeName: String?
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Registry(try g.open()).listThings(attributeName: attributeName, attributeValue: attributeValue, typeName: thingTypeName,
                                                          maxResults: maxResults, nextToken: nextToken), try g.format())
    }
}

struct CreateThingType: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-thing-type", abstract: "Create a thing type.",
        discussion: example(#"fleetdex create-thing-type --thing-type-name Pump --thing-type-properties '{"thingTypeDescription":"water pumps"}'"#))
    @OptionGroup var g: GlobalOptions
    @Option var thingTypeName: String
    @Option var thingTypeProperties: String?
    func run() throws {
        let p = try thingTypeProperties.map { try structured($0, "--thing-type-properties") }
        Output.emit(try Registry(try g.open()).createThingType(name: thingTypeName, properties: p, at: try g.now()), try g.format())
    }
}

struct DescribeThingType: ParsableCommand {
    static let configuration = CommandConfiguration(command: "describe-thing-type", abstract: "Describe a thing type.",
        discussion: example("fleetdex describe-thing-type --thing-type-name Pump"))
    @OptionGroup var g: GlobalOptions
    @Option var thingTypeName: String
    func run() throws { Output.emit(try Registry(try g.open()).describeThingType(name: thingTypeName), try g.format()) }
}

struct ListThingTypes: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-thing-types", abstract: "List thing types.",
        discussion: example("fleetdex list-thing-types"))
    @OptionGroup var g: GlobalOptions
    @Option var thingTypeName: String?
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Registry(try g.open()).listThingTypes(typeName: thingTypeName, maxResults: maxResults, nextToken: nextToken), try g.format())
    }
}

struct DeprecateThingType: ParsableCommand {
    static let configuration = CommandConfiguration(command: "deprecate-thing-type", abstract: "Deprecate (or, with --undo-deprecate, restore) a thing type.",
        discussion: example("fleetdex deprecate-thing-type --thing-type-name Pump"))
    @OptionGroup var g: GlobalOptions
    @Option var thingTypeName: String
    @Flag var undoDeprecate = false
    func run() throws {
        Output.emit(try Registry(try g.open()).deprecateThingType(name: thingTypeName, undo: undoDeprecate, at: try g.now()), try g.format())
    }
}

struct DeleteThingType: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-thing-type", abstract: "Delete a thing type no thing uses.",
        discussion: example("fleetdex delete-thing-type --thing-type-name Pump"))
    @OptionGroup var g: GlobalOptions
    @Option var thingTypeName: String
    func run() throws { Output.emit(try Registry(try g.open()).deleteThingType(name: thingTypeName), try g.format()) }
}

struct CreateThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-thing-group", abstract: "Create a static thing group, optionally under a parent.",
        discussion: example("fleetdex create-thing-group --thing-group-name line-1 --parent-group-name plant-a"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Option var parentGroupName: String?
    @Option var thingGroupProperties: String?
    func run() throws {
        let p = try thingGroupProperties.map { try structured($0, "--thing-group-properties") }
        Output.emit(try Registry(try g.open()).createThingGroup(name: thingGroupName, parent: parentGroupName, properties: p, at: try g.now()), try g.format())
    }
}

struct DescribeThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "describe-thing-group", abstract: "Describe a thing group (dynamic groups show queryString and status).",
        discussion: example("fleetdex describe-thing-group --thing-group-name Disconnected_things"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    func run() throws { Output.emit(try Registry(try g.open()).describeThingGroup(name: thingGroupName), try g.format()) }
}

struct UpdateThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "update-thing-group", abstract: "Update a thing group's properties.",
        discussion: example(#"fleetdex update-thing-group --thing-group-name plant-a --thing-group-properties '{"thingGroupDescription":"Plant A"}'"#))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Option var thingGroupProperties: String
    @Option var expectedVersion: Int64?
    func run() throws {
        Output.emit(try Registry(try g.open()).updateThingGroup(name: thingGroupName, properties: try structured(thingGroupProperties, "--thing-group-properties"),
                                                                expectedVersion: expectedVersion), try g.format())
    }
}

struct ListThingGroups: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-thing-groups", abstract: "List thing groups: all, the children of a parent, or with --recursive all below it.",
        discussion: example("fleetdex list-thing-groups --parent-group plant-a --recursive"))
    @OptionGroup var g: GlobalOptions
    @Option var parentGroup: String?
    @Option var namePrefixFilter: String?
    @Flag var recursive = false
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Registry(try g.open()).listThingGroups(parent: parentGroup, namePrefix: namePrefixFilter, recursive: recursive,
                                                               maxResults: maxResults, nextToken: nextToken), try g.format())
    }
}

struct DeleteThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-thing-group", abstract: "Delete a static thing group with no child groups.",
        discussion: example("fleetdex delete-thing-group --thing-group-name line-1"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Option var expectedVersion: Int64?
    func run() throws { Output.emit(try Registry(try g.open()).deleteThingGroup(name: thingGroupName, expectedVersion: expectedVersion), try g.format()) }
}

struct AddThingToThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "add-thing-to-thing-group", abstract: "Add a thing to a static thing group.",
        discussion: example("fleetdex add-thing-to-thing-group --thing-group-name line-1 --thing-name pump-17"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Option var thingName: String
    @Flag var overrideDynamicGroups = false
    func run() throws {
        Output.emit(try Registry(try g.open()).addThingToThingGroup(group: thingGroupName, thingName: thingName,
                                                                    overrideDynamicGroups: overrideDynamicGroups, at: try g.now()), try g.format())
    }
}

struct RemoveThingFromThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "remove-thing-from-thing-group", abstract: "Remove a thing from a static thing group.",
        discussion: example("fleetdex remove-thing-from-thing-group --thing-group-name line-1 --thing-name pump-17"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Option var thingName: String
    func run() throws { Output.emit(try Registry(try g.open()).removeThingFromThingGroup(group: thingGroupName, thingName: thingName), try g.format()) }
}

struct ListThingsInThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-things-in-thing-group", abstract: "List a group's things (--recursive: with its subgroups').",
        discussion: example("fleetdex list-things-in-thing-group --thing-group-name plant-a --recursive"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Flag var recursive = false
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Registry(try g.open()).listThingsInThingGroup(group: thingGroupName, recursive: recursive, maxResults: maxResults, nextToken: nextToken),
                    try g.format())
    }
}

struct ListThingGroupsForThing: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-thing-groups-for-thing", abstract: "List the groups (static and dynamic) a thing is in.",
        discussion: example("fleetdex list-thing-groups-for-thing --thing-name pump-17"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var maxResults: Int?
    @Option var nextToken: String?
    func run() throws {
        Output.emit(try Registry(try g.open()).listThingGroupsForThing(thingName: thingName, maxResults: maxResults, nextToken: nextToken), try g.format())
    }
}

struct UpdateThingShadow: ParsableCommand {
    static let configuration = CommandConfiguration(command: "update-thing-shadow", abstract: "Update a thing's classic or named shadow (state.reported / state.desired; null removes a key).",
        discussion: example(#"fleetdex update-thing-shadow --thing-name pump-17 --payload '{"state":{"reported":{"temp":71.5}}}'"#))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var shadowName: String?
    @Option var payload: String
    func run() throws {
        Output.emit(try Registry(try g.open()).updateThingShadow(thingName: thingName, shadowName: shadowName, payload: try structured(payload, "--payload"),
                                                                 at: try g.now()), try g.format())
    }
}

struct GetThingShadow: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-thing-shadow", abstract: "Print a thing's classic or named shadow document.",
        discussion: example("fleetdex get-thing-shadow --thing-name pump-17 --shadow-name gps"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var shadowName: String?
    func run() throws { Output.emit(try Registry(try g.open()).getThingShadow(thingName: thingName, shadowName: shadowName), try g.format()) }
}

struct DeleteThingShadow: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-thing-shadow", abstract: "Delete a thing's classic or named shadow.",
        discussion: example("fleetdex delete-thing-shadow --thing-name pump-17"))
    @OptionGroup var g: GlobalOptions
    @Option var thingName: String
    @Option var shadowName: String?
    func run() throws { Output.emit(try Registry(try g.open()).deleteThingShadow(thingName: thingName, shadowName: shadowName), try g.format()) }
}

struct ImportThings: ParsableCommand {
    static let configuration = CommandConfiguration(command: "import-things",
        abstract: "Load JSON Lines of {thingName, thingTypeName?, attributes?, thingGroupNames?, shadow?} in one transaction (upserts).",
        discussion: "Every bad line is named on stderr with its number and reason; the good lines are imported and the exit code is 65. "
            + "With --atomic nothing is imported when any line is bad.\n\n"
            + example("fleetdex import-things fleet.jsonl", "generate-fleet | fleetdex import-things - --atomic"))
    @OptionGroup var g: GlobalOptions
    @Argument(help: "A JSON Lines file, or - for standard input.") var file: String
    @Flag(help: "All or nothing: when any line is bad, import none of them (every bad line is still named).") var atomic = false
    func run() throws {
        let reader = openInput(file)
        let db = try g.open()
        let meter = ProgressMeter("import-things", reader)
        let now = try g.now()
        let s = try meter.run { m in
            try Importer(db).importThings(reader, atomic: atomic, at: now, rejected: { line, reason in
                m.log("fleetdex: rejected line \(line): \(reason)")
            }, progress: m.update)
        }
        Output.emit(jsonObject([("lines", .int(s.lines)), ("created", .int(s.created)), ("updated", .int(s.updated)),
                                ("unchanged", .int(s.unchanged)), ("rejected", .int(s.rejected)),
                                ("thingTypesCreated", .int(s.typesCreated)), ("thingGroupsCreated", .int(s.groupsCreated))]), try g.format())
        if s.rejected > 0 { throw ExitCode(65) }
    }
}
