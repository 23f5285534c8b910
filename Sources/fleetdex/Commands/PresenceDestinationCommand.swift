// fleetdex presence-destination: the confirmation an AWS IoT topic rule's HTTP destination sent
// to `POST /_fleetdex/presence` (its token and the enableUrl that confirms it), as serve
// recorded it.
import ArgumentParser
import FleetIndex

struct PresenceDestination: ParsableCommand {
    static let configuration = CommandConfiguration(
        command: "presence-destination",
        abstract: "Show the topic rule destination confirmation serve received (token, enableUrl); serve --confirm-destinations GETs it.",
        discussion: example("fleetdex presence-destination --db fleet.sqlite"))
    @OptionGroup var g: GlobalOptions

    func run() throws {
        let db = try g.open()
        guard let text = try db.meta("presence.destination-confirmation") else {
            throw FleetError.notFound("no destination confirmation has reached POST /_fleetdex/presence")
        }
        Output.emit(try JSONValue.parse(text), try g.format())
    }
}
