// FleetIndex: reads a file or standard input line by line in fixed-size chunks, so a
// multi-gigabyte file or an endless pipe is read in bounded memory.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines of a file descriptor, as byte arrays without the newline.
public final class LineReader {
    private let fd: Int32
    private let owns: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    /// 1-based number of the last line returned.
    public private(set) var lineNumber = 0

    /// Opens `path`, or standard input for `-`.
    public init(path: String) throws(FleetError) {
        if path == "-" {
            fd = 0
            owns = false
        } else {
            let f = open(path, O_RDONLY)
            guard f >= 0 else { throw FleetError(.invalidRequest, "cannot open \(path): \(String(cString: strerror(errno)))") }
            fd = f
            owns = true
        }
    }

    deinit { if owns { close(fd) } }

    /// The first non-blank byte, read without consuming anything (to tell an array from lines).
    public func peekFirstByte() -> UInt8? {
        while true {
            if let b = buffer[start...].first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) { return b }
            if eof || !fill() { return nil }
        }
    }

    @discardableResult
    private func fill() -> Bool {
        if start > 0 && start > buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 20) }
        if n <= 0 { eof = true; return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// The next line, or nil at the end of input.
    public func next() -> ArraySlice<UInt8>? {
        var scanned = 0
        while true {
            if let nl = buffer[(start + scanned)...].firstIndex(of: 0x0A) {
                var line = buffer[start..<nl]
                if line.last == 0x0D { line = line.dropLast() }
                start = nl + 1
                lineNumber += 1
                return line
            }
            scanned = buffer.count - start
            if eof || !fill() {
                guard start < buffer.count else { return nil }
                var line = buffer[start...]
                if line.last == 0x0D { line = line.dropLast() }
                start = buffer.count
                lineNumber += 1
                return line
            }
        }
    }

    /// Everything left, as one byte array.
    public func readAll() -> [UInt8] {
        while !eof { fill() }
        let rest = Array(buffer[start...])
        start = buffer.count
        return rest
    }
}
