// The sessions' byte-buffer allocator: malloc below 16 KiB, a mapping of its own from there;
// a buffer keeps its bytes when it grows across that line, grows inside its mapping, and is
// copied, sliced and freed as any ByteBuffer.
@testable import FleetMQTT
import NIOCore
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
