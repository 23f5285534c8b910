// FleetPostgres: how Schema/postgres/ is laid out for Citus. Tables that grow with the
// fleet are distributed by the fleet key of a thing or a client (one colocation group, so
// everything about one device is on one shard); the few that grow otherwise have groups
// of their own; tables that stay small are reference tables. `statements` are the calls
// an operator runs once on a Citus coordinator after `fleetdex` has migrated the database;
// CitusLayoutTests checks the schema against the rules Citus sets for them.

/// The Citus layout of the PostgreSQL schema.
public enum CitusLayout {
    /// A distributed table: its distribution column and the table it is colocated with
    /// (nil: the first of its group).
    public struct Distributed: Sendable, Equatable {
        public var table: String
        public var column: String
        public var colocateWith: String?
    }

    /// Small tables: a copy on every node, in the order their foreign keys need.
    public static let reference: [String] = [
        "meta", "thing_type", "thing_group", "thing_group_ancestor", "security_profile", "profile_target",
        "violation_behavior", "evaluated_tick", "sns_topic", "sns_subscription", "sqs_queue",
        "mitigation_action", "mitigation_task", "policy", "policy_version", "certificate_authority",
    ]

    /// Tables that grow, with their distribution columns, in creation order.
    public static let distributed: [Distributed] = [
        // the fleet key: things and clients of the same name on one shard
        Distributed(table: "thing", column: "id", colocateWith: nil),
        Distributed(table: "thing_group_member", column: "thing", colocateWith: "thing"),
        Distributed(table: "shadow", column: "thing", colocateWith: "thing"),
        Distributed(table: "thing_text", column: "thing", colocateWith: "thing"),
        Distributed(table: "thing_number", column: "thing", colocateWith: "thing"),
        Distributed(table: "thing_flag", column: "thing", colocateWith: "thing"),
        Distributed(table: "thing_touch", column: "thing", colocateWith: "thing"),
        Distributed(table: "group_log", column: "thing", colocateWith: "thing"),
        Distributed(table: "thing_principal", column: "thing", colocateWith: "thing"),
        Distributed(table: "mitigation_execution", column: "thing", colocateWith: "thing"),
        Distributed(table: "client", column: "id", colocateWith: "thing"),
        Distributed(table: "presence_event", column: "client", colocateWith: "thing"),
        Distributed(table: "metric_run", column: "client", colocateWith: "thing"),
        Distributed(table: "alarm", column: "client", colocateWith: "thing"),
        Distributed(table: "violation", column: "client", colocateWith: "thing"),
        Distributed(table: "violation_event", column: "client", colocateWith: "thing"),
        // grow with alerts and certificates, not with one thing
        Distributed(table: "sqs_message", column: "queue", colocateWith: nil),
        Distributed(table: "http_delivery", column: "subscription", colocateWith: nil),
        Distributed(table: "certificate", column: "id", colocateWith: nil),
        Distributed(table: "policy_target", column: "target", colocateWith: nil),
    ]

    /// Tables left on the coordinator: the migrations' own bookkeeping.
    public static let local: [String] = ["fleetdex_schema"]

    /// The colocation group of a distributed table (the table its group starts with).
    public static func group(of table: String) -> String? {
        guard let d = distributed.first(where: { $0.table == table }) else { return nil }
        return d.colocateWith ?? d.table
    }

    /// The calls to run on a Citus coordinator, in order.
    public static var statements: [String] {
        reference.map { "SELECT create_reference_table('\($0)');" } + distributed.map { d in
            "SELECT create_distributed_table('\(d.table)', '\(d.column)', colocate_with => '\(d.colocateWith ?? "none")');"
        }
    }
}
