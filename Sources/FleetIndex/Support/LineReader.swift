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
    /// Bytes read from the descriptor so far.
    private var bytesRead: Int64 = 0
    /// 1-based number of the last line returned.
    public private(set) var lineNumber = 0
    /// The size of the input when it is a regular file (a pipe's is unknown).
    public let size: Int64?
    /// Called when the next read would wait for a pipe or terminal to deliver more (nothing
    /// buffered, nothing ready): a consumer commits what it holds instead of sitting on it.
    public var willWait: (() -> Void)?

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
        var st = stat()
        if fstat(fd, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR {
                if owns { close(fd) }
                throw FleetError(.invalidRequest, "cannot open \(path): \(String(cString: strerror(EISDIR)))")
            }
            size = (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : nil
        } else {
            size = nil
        }
    }

    /// Lines of bytes already in memory.
    public init(bytes: [UInt8]) {
        fd = -1
        owns = false
        buffer = bytes
        eof = true
        bytesRead = Int64(bytes.count)
        size = Int64(bytes.count)
    }

    deinit { if owns { close(fd) } }

    /// The descriptor read from (-1 for bytes in memory); it stays open while the reader lives.
    public var fileDescriptor: Int32 { fd }

    /// Bytes of the input consumed so far (returned as lines), for progress against `size`.
    public var position: Int64 { bytesRead - Int64(buffer.count - start) }

    /// The first non-blank byte, read without consuming anything (to tell an array from lines).
    public func peekFirstByte() -> UInt8? {
        while true {
            if let b = buffer[start...].first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) { return b }
            if eof || !fill() { return nil }
        }
    }

    @discardableResult
    private func fill() -> Bool {
        if eof { return false }
        if start > 0 && start > buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        if let willWait {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 0) == 0 { willWait() }
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var n: Int
        repeat {
            n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 20) }
        } while n < 0 && errno == EINTR
        if n <= 0 { eof = true; return false }
        buffer.append(contentsOf: chunk[0..<n])
        bytesRead += Int64(n)
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

    /// Reads `bytes` next, as if they were the rest of the input, with `lineNumber` as the
    /// number of the line before them (to go back over input that `readAll` took).
    public func reread(_ bytes: [UInt8], after lineNumber: Int) {
        buffer = bytes
        start = 0
        eof = true
        self.lineNumber = lineNumber
    }
}
