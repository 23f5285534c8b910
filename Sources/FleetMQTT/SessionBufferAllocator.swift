// FleetMQTT: the byte-buffer allocator of the device sessions' channels. NIOSSL gives every
// connection a 32 KiB plaintext read buffer and a 16 KiB outbound record buffer for its whole
// life, though an idle MQTT session writes only the first bytes of either. From malloc they are
// often carved out of memory earlier handshakes dirtied, so all of it stays resident; here a
// buffer of 16 KiB or more gets an anonymous mapping of its own, whose pages become resident
// only when written, and goes back to the kernel when freed. Smaller buffers stay with malloc.
// Each block carries a 16-byte header: the mapping's length, or 0 for a malloc'd block. At
// most `maximumMappings` blocks are mappings at once (the kernel's map count, 65,530 by
// default, is the whole process's: thread stacks and malloc need it too); beyond, malloc.
import Synchronization
@_spi(CustomByteBufferAllocator) import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum SessionBufferAllocator {
    static let allocator = ByteBufferAllocator(allocate: { allocateBlock($0) },
                                               reallocate: { reallocateBlock($0, $1, $2) },
                                               deallocate: { deallocateBlock($0) },
                                               copy: { $0.copyMemory(from: $1, byteCount: $2) })

    /// From this size up a block is a mapping of its own.
    static let mappedFromSize = 16 * 1024
    static let header = 16
    /// Mappings at once, at most (two a session: 15,000 sessions; more take malloc's blocks).
    static let maximumMappings = 30_000
    /// Blocks that are mappings now.
    static let mappings = Atomic<Int>(0)
}

private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

private func allocateBlock(_ size: Int) -> UnsafeMutableRawPointer? {
    let total = size + SessionBufferAllocator.header
    if size >= SessionBufferAllocator.mappedFromSize {
        let length = (total + pageSize - 1) / pageSize * pageSize
        if SessionBufferAllocator.mappings.wrappingAdd(1, ordering: .relaxed).oldValue < SessionBufferAllocator.maximumMappings,
           let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED {
            base.storeBytes(of: length, as: Int.self)
            return base + SessionBufferAllocator.header
        }
        // At the cap, or the kernel refused a mapping: malloc serves it.
        SessionBufferAllocator.mappings.wrappingSubtract(1, ordering: .relaxed)
    }
    guard let base = malloc(total) else { return nil }
    base.storeBytes(of: 0, as: Int.self)
    return base + SessionBufferAllocator.header
}

private func deallocateBlock(_ pointer: UnsafeMutableRawPointer) {
    let base = pointer - SessionBufferAllocator.header
    let length = base.load(as: Int.self)
    if length > 0 {
        // munmap can fail only when splitting a region would pass the map count; the block
        // is then kept (its pages were the block's alone), never handed out again.
        if munmap(base, length) == 0 { SessionBufferAllocator.mappings.wrappingSubtract(1, ordering: .relaxed) }
    } else {
        free(base)
    }
}

private func reallocateBlock(_ pointer: UnsafeMutableRawPointer?, _ oldSize: Int, _ newSize: Int) -> UnsafeMutableRawPointer? {
    guard let pointer else { return allocateBlock(newSize) }
    let base = pointer - SessionBufferAllocator.header
    let length = base.load(as: Int.self)
    if length > 0, newSize + SessionBufferAllocator.header <= length { return pointer }
    if length == 0, newSize < SessionBufferAllocator.mappedFromSize {
        guard let moved = realloc(base, newSize + SessionBufferAllocator.header) else { return nil }
        return moved + SessionBufferAllocator.header
    }
    // Into a (larger) mapping: copied, the old block freed.
    guard let fresh = allocateBlock(newSize) else { return nil }
    fresh.copyMemory(from: pointer, byteCount: min(oldSize, newSize))
    deallocateBlock(pointer)
    return fresh
}
