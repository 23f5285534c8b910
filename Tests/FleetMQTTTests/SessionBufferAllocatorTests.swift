// The sessions' byte-buffer allocator: malloc below 16 KiB, a mapping of its own from there;
// a buffer keeps its bytes when it grows across that line, grows inside its mapping, and is
// copied, sliced and freed as any ByteBuffer.
@testable import FleetMQTT
import NIOCore
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite struct SessionBufferAllocatorTests {
    /// (starting capacity, bytes written): each write grows the buffer past its capacity.
    @Test(arguments: [(64, 20_000), (2_048, 100_000), (16_384, 40_000), (32_768, 33_000), (1, 15_000), (20_000, 20_000)])
    func bytesSurviveGrowth(capacity: Int, written: Int) {
        var buffer = SessionBufferAllocator.allocator.buffer(capacity: capacity)
        let pattern = (0..<written).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for chunk in stride(from: 0, to: written, by: 1_000) {
            buffer.writeBytes(pattern[chunk..<min(written, chunk + 1_000)])
        }
        #expect(buffer.readableBytes == written)
        #expect(buffer.capacity >= written)
        // A copy (copy-on-write through the allocator's copy and allocate) has the same bytes.
        var copy = buffer
        copy.writeBytes([1, 2, 3])
        #expect(copy.getBytes(at: 0, length: written) == pattern)
        #expect(buffer.readBytes(length: written) == pattern)
    }

    @Test func manyBuffersAreIndependent() {
        var buffers = (0..<64).map { i -> ByteBuffer in
            var b = SessionBufferAllocator.allocator.buffer(capacity: i % 2 == 0 ? 32_768 : 512)
            b.writeRepeatingByte(UInt8(i), count: 1_000 + i)
            return b
        }
        for i in buffers.indices {
            #expect(buffers[i].readBytes(length: 1_000 + i) == Array(repeating: UInt8(i), count: 1_000 + i))
        }
        buffers.removeAll()
        #expect(buffers.isEmpty)
    }
}

/// `release`: a live mapping's pages leave memory (mincore) and read as zeros; a block that
/// is not that mapping any more, or not a mapping, is left alone.
@Suite struct SessionBufferReleaseTests {
    private static let page = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Resident pages of the `length` bytes at `address` (page-aligned).
    private static func resident(_ address: UnsafeRawPointer, _ length: Int) -> Int {
        var flags = [UInt8](repeating: 0, count: (length + page - 1) / page)
        let rc = mincore(UnsafeMutableRawPointer(mutating: address), length, &flags)
        precondition(rc == 0)
        return flags.filter { $0 & 1 == 1 }.count
    }

    /// (capacity, bytes written before the release).
    @Test(arguments: [(32_768, 10), (16_384, 5_000), (65_536, 40_000)])
    func releasedPagesLeaveMemoryAndReadZero(capacity: Int, written: Int) throws {
        var buffer = SessionBufferAllocator.allocator.buffer(capacity: capacity)
        buffer.writeRepeatingByte(0xAB, count: written)
        let base = try #require(buffer.withVeryUnsafeBytes { UnsafeRawPointer($0.baseAddress) })
        let mapping = try #require(SessionBufferAllocator.mapping(at: base))
        let touched = (written + Self.page - 1) / Self.page
        // (At least: with transparent huge pages "always", a neighbour's huge page may count.)
        #expect(Self.resident(base, mapping.length) >= touched)
        #expect(SessionBufferAllocator.release(base, mapping) == mapping.length / Self.page)
        #expect(Self.resident(base, mapping.length) == 0)
        // Written again: one page back, the buffer as good as new, the rest zeros.
        buffer.clear()
        buffer.writeBytes([1, 2, 3])
        #expect(Self.resident(base, mapping.length) >= 1)
        #expect(buffer.readBytes(length: 3) == [1, 2, 3])
        #expect(buffer.withVeryUnsafeBytes { Array($0[3..<written + 3]) } == Array(repeating: 0, count: written))
    }

    @Test func aFreedOrReplacedMappingIsNotReleased() throws {
        var first: ByteBuffer? = SessionBufferAllocator.allocator.buffer(capacity: 32_768)
        let base = try #require(first!.withVeryUnsafeBytes { UnsafeRawPointer($0.baseAddress) })
        let old = try #require(SessionBufferAllocator.mapping(at: base))
        first = nil
        #expect(SessionBufferAllocator.mapping(at: base) == nil || SessionBufferAllocator.mapping(at: base) != old)
        // Another block (perhaps at the same address) keeps its bytes.
        var next = SessionBufferAllocator.allocator.buffer(capacity: 32_768)
        next.writeRepeatingByte(7, count: 100)
        #expect(SessionBufferAllocator.release(base, old) == 0)
        #expect(next.getBytes(at: 0, length: 100) == Array(repeating: 7, count: 100))
        // A malloc'd block is no mapping.
        let small = SessionBufferAllocator.allocator.buffer(capacity: 512)
        #expect(small.withVeryUnsafeBytes { SessionBufferAllocator.mapping(at: $0.baseAddress!) } == nil)
        _ = first
    }
}
