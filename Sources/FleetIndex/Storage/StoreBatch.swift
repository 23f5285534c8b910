// FleetIndex storage: how many rows a batched statement carries (PostgreSQL's arrays) and how
// many ids a bound id list holds, and the chunks of a collection cut to those sizes.

/// The sizes of the stores' batched statements.
enum StoreBatch {
    /// Rows of one INSERT/UPDATE/DELETE over arrays.
    static let rows = 5000
    /// Ids of one bound id list (a read for many clients or things).
    static let ids = 1000
}

extension Array {
    /// The elements in consecutive slices of at most `size` (none for an empty array).
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
