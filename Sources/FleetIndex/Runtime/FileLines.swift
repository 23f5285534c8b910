// FleetIndex runtime: a file or standard input as an async sequence of lifecycle-event lines,
// for the runner. A followed file is read as it grows; standard input ends at its end.
import Foundation

/// Lines of a file descriptor, numbered from 1, read on a thread of their own.
public struct FileLines: AsyncSequence, Sendable {
    public typealias Element = PresenceInput

    private let path: String
    private let follow: Bool

    /// `path` `-` is standard input. `follow` keeps reading a regular file as it grows
    /// (until the task is cancelled); otherwise the sequence ends at the end of the file.
    public init(path: String, follow: Bool) {
        self.path = path
        self.follow = follow
    }

    /// Opens the file now, so that a missing file is an error of the command, not of a thread.
    public func validate() throws(FleetError) {
        guard path != "-" else { return }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FleetError(.invalidRequest, "cannot open \(path): \(String(cString: strerror(errno)))") }
        close(fd)
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<PresenceInput, Error>.Iterator {
        let (stream, continuation) = AsyncThrowingStream<PresenceInput, Error>.makeStream(bufferingPolicy: .bufferingOldest(10_000))
        let stop = StopFlag()
        continuation.onTermination = { _ in stop.set() }
        let path = self.path, follow = self.follow
        let thread = Thread {
            let fd: Int32 = path == "-" ? 0 : open(path, O_RDONLY)
            guard fd >= 0 else {
                continuation.finish(throwing: FleetError(.invalidRequest, "cannot open \(path): \(String(cString: strerror(errno)))"))
                return
            }
            defer { if fd != 0 { close(fd) } }
            var pending: [UInt8] = []
            var line = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            func emit(_ bytes: ArraySlice<UInt8>) {
                line += 1
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
                var b = Array(bytes)
                if b.last == 0x0D { b.removeLast() }
                // The buffer is bounded: wait while the consumer is behind.
                while case .dropped = continuation.yield(PresenceInput(line: line, json: b)) {
                    if stop.isSet { return }
                    usleep(1000)
                }
            }
            while !stop.isSet {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 200) > 0 else { continue }
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 16) }
                if n > 0 {
                    pending += chunk[0..<n]
                    if let last = pending.lastIndex(of: 0x0A) {
                        var start = 0
                        while start <= last, let nl = pending[start...last].firstIndex(of: 0x0A) {
                            emit(pending[start..<nl])
                            start = nl + 1
                        }
                        pending.removeSubrange(..<start)
                    }
                } else if n == 0 && follow && path != "-" {
                    usleep(200_000)  // a followed file: wait for it to grow
                } else {
                    break
                }
            }
            if !pending.isEmpty && !stop.isSet { emit(pending[...]) }
            continuation.finish()
        }
        thread.name = "fleetdex-lines"
        thread.start()
        return stream.makeAsyncIterator()
    }
}

/// A flag set once, read from other threads.
///
/// `@unchecked Sendable`: `value` is read and written only under `lock`.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
