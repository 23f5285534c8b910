// fleetdex's version: what `fleetdex --version` prints and serve's `/_fleetdex/health` answers.
public enum FleetVersion {
    public static let string = "0.3.0"
}
