// The progress line of import-things and ingest-events: done, rate, and time left when the
// input's size is known.
import FleetIndex
import Testing

@Suite struct ProgressTests {
    @Test(arguments: [
        // a file: done, rate, share of the size, time left (elapsed × the rest / what is done)
        (120_000, Int64(12_000_000), Int64?.some(48_000_000), 5.0,
         "ingest-events: 120,000 lines, 24,000 lines/s, 25% of 48.0 MB, about 15 s left"),
        (1_500, 999, 1_000_000, 0.5, "ingest-events: 1,500 lines, 3,000 lines/s, 0% of 1.0 MB, about 8 min 21 s left"),
        (2_000_000, 900_000_000, 1_000_000_000, 3600, "ingest-events: 2,000,000 lines, 556 lines/s, 90% of 1.0 GB, about 6 min 40 s left"),
        (100, 100_000_000, 1_000_000_000, 30_000, "ingest-events: 100 lines, 0 lines/s, 10% of 1.0 GB, about 75 h 00 min left"),
        (10, 1, 10_000_000_000, 10, "ingest-events: 10 lines, 1 lines/s, 0% of 10.0 GB, more than 100 h left"),
        // all read: no time left
        (50, 4_000, 4_000, 2, "ingest-events: 50 lines, 25 lines/s, 100% of 4.0 kB"),
        // a pipe: the size is unknown
        (120_000, 12_000_000, nil, 5, "ingest-events: 120,000 lines, 24,000 lines/s"),
        // no time passed yet: no rate, no estimate
        (0, 0, 512, 0, "ingest-events: 0 lines, 0% of 512 B"),
    ] as [(Int, Int64, Int64?, Double, String)])
    func format(_ done: Int, _ bytes: Int64, _ total: Int64?, _ elapsed: Double, _ expected: String) {
        #expect(ProgressLine.format("ingest-events", done: done, bytes: bytes, total: total, elapsed: elapsed) == expected)
    }

    @Test(arguments: [(Int64(0), "0"), (999, "999"), (1000, "1,000"), (1_234_567, "1,234,567"), (-45_000, "-45,000")])
    func grouped(_ n: Int64, _ text: String) { #expect(ProgressLine.grouped(n) == text) }

    @Test(arguments: [(0.2, "1 s"), (59, "59 s"), (60, "1 min 00 s"), (3599, "59 min 59 s"), (3600, "1 h 00 min"), (7384, "2 h 03 min"), (.infinity, "0 s"), (1e300, "277777 h 46 min")])
    func duration(_ s: Double, _ text: String) { #expect(ProgressLine.duration(s) == text) }

    @Test(arguments: [(Int64(999), "999 B"), (1000, "1.0 kB"), (999_949, "999.9 kB"), (999_950, "1.0 MB"), (83_020_000, "83.0 MB"), (1_200_000_000_000, "1.2 TB")])
    func size(_ b: Int64, _ text: String) { #expect(ProgressLine.size(b) == text) }
}
