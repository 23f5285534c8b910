// FleetIndex: the last tick the evaluation cycle processed, for front ends that warn when a
// command's time lies before it.

extension EvaluationCycle {
    /// The newest evaluated tick (epoch ms), or nil on a database that has evaluated none.
    public func lastEvaluatedTick() throws -> Int64? {
        try alarms.latestTick()
    }
}
