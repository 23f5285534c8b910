// fleetdex-bench: a text file written line by line in 4 MiB chunks (fleets, event streams
// and CSV files of millions of lines).
import FleetIndex
import Foundation

final class LineFile {
    private let handle: FileHandle
    private var buffer = ""
    /// Lines written so far.
    private(set) var lines = 0

    init(_ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw FleetError(.internalFailure, "cannot create \(path)") }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        buffer.reserveCapacity(1 << 22)
    }

    /// Appends `line` and a newline.
    func write(_ line: String) {
        buffer += line
        buffer += "\n"
        lines += 1
        if buffer.utf8.count > 1 << 22 { flush() }
    }

    func close() throws {
        flush()
        try handle.close()
    }

    private func flush() {
        handle.write(Data(buffer.utf8))
        buffer.removeAll(keepingCapacity: true)
    }
}
