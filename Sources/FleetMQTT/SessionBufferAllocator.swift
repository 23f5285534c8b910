// FleetMQTT: the byte-buffer allocator of the device sessions' channels. NIOSSL gives every
// connection a 32 KiB plaintext read buffer and a 16 KiB outbound record buffer for its whole
// life, though an idle MQTT session writes only the first bytes of either. From malloc they are
// often carved out of memory earlier handshakes dirtied, so all of it stays resident; here a
// buffer of 16 KiB or more gets an anonymous mapping of its own, whose pages become resident
// only when written, and goes back to the kernel when freed. Smaller buffers stay with malloc.
//
// A mapping's pages can also be handed back while it lives (`release`): a session that has
// gone quiet gives back the pages its buffers' last bytes dirtied (SessionBuffers says when
// their contents are spent); the next write faults in a zeroed page. The channels read 16 KiB
// at a time, so their receive buffers are mappings too.
//
// Mappings are page-aligned and kept in a table (address → length, serial); anything not in
// it is malloc's. At most `maximumMappings` blocks are mappings at once (the kernel's map
// count, 65,530 by default, is the whole process's: thread stacks and malloc need it too);
// beyond, malloc.
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
    /// Mappings at once, at most (three a session: 15,000 sessions; more take malloc's blocks).
    static let maximumMappings = 45_000

    /// One live mapping: its length, and a serial that tells it from a later mapping at the
    /// same address.
    struct Mapping: Equatable {
        var length: Int
        var serial: UInt64
    }

    struct Table {
        var mappings: [UInt: Mapping] = [:]
        /// Places under the cap taken by mappings being made.
        var reserved = 0
        var nextSerial: UInt64 = 1
    }

    static let table = Mutex(Table())

    /// The table's key for a block starting at `address`: nil when it is not page-aligned,
    /// so no mapping (most malloc'd blocks are not, and skip the lock).
    fileprivate static func key(_ address: UnsafeRawPointer) -> UInt? {
        let key = UInt(bitPattern: address)
        return key % UInt(pageSize) == 0 ? key : nil
    }

    /// The mapping whose bytes start at `address`, if that is a mapping's start.
    static func mapping(at address: UnsafeRawPointer) -> Mapping? {
        guard let key = key(address) else { return nil }
        return table.withLock { $0.mappings[key] }
    }

    /// Takes the mapping at `address` out of the table (a malloc'd block is never in it: its
    /// bytes cannot start where a live mapping's do).
    fileprivate static func removeMapping(at address: UnsafeRawPointer) -> Mapping? {
        guard let key = key(address) else { return nil }
        return table.withLock { $0.mappings.removeValue(forKey: key) }
    }

    /// Hands the pages of the mapping at `address` back to the kernel (they read as zeros
    /// after), if it is still the mapping `mapping` named; returns the pages released. The
    /// caller vouches that no byte of it is still to be read.
    @discardableResult
    static func release(_ address: UnsafeRawPointer, _ mapping: Mapping) -> Int {
        let key = UInt(bitPattern: address)
        return table.withLock { t in
            // Under the lock: the block cannot be unmapped (and its address reused) meanwhile.
            guard t.mappings[key] == mapping else { return 0 }
            guard madvise(UnsafeMutableRawPointer(mutating: address), mapping.length, MADV_DONTNEED) == 0 else { return 0 }
            return mapping.length / pageSize
        }
    }
}

private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

private func allocateBlock(_ size: Int) -> UnsafeMutableRawPointer? {
    if size >= SessionBufferAllocator.mappedFromSize {
        let length = (size + pageSize - 1) / pageSize * pageSize
        // A place under the cap is taken before mapping (given back if the kernel refuses).
        let room = SessionBufferAllocator.table.withLock { t in
            guard t.mappings.count + t.reserved < SessionBufferAllocator.maximumMappings else { return false }
            t.reserved += 1
            return true
        }
        if room {
            let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            let mapped = base.flatMap { $0 == MAP_FAILED ? nil : $0 }
            SessionBufferAllocator.table.withLock { t in
                t.reserved -= 1
                if let mapped {
                    t.mappings[UInt(bitPattern: mapped)] = .init(length: length, serial: t.nextSerial)
                    t.nextSerial += 1
                }
            }
            if let mapped { return mapped }
        }
        // At the cap, or the kernel refused a mapping: malloc serves it.
    }
    return malloc(max(size, 1))
}

private func deallocateBlock(_ pointer: UnsafeMutableRawPointer) {
    if let mapping = SessionBufferAllocator.removeMapping(at: pointer) {
        // munmap can fail only when splitting a region would pass the map count; the pages
        // were the block's alone and are never handed out again.
        _ = munmap(pointer, mapping.length)
    } else {
        free(pointer)
    }
}

private func reallocateBlock(_ pointer: UnsafeMutableRawPointer?, _ oldSize: Int, _ newSize: Int) -> UnsafeMutableRawPointer? {
    guard let pointer else { return allocateBlock(newSize) }
    let length = SessionBufferAllocator.mapping(at: pointer)?.length
    if let length, newSize <= length { return pointer }
    if length == nil, newSize < SessionBufferAllocator.mappedFromSize { return realloc(pointer, newSize) }
    // Into a (larger) mapping: copied, the old block freed.
    guard let fresh = allocateBlock(newSize) else { return nil }
    fresh.copyMemory(from: pointer, byteCount: min(oldSize, newSize))
    deallocateBlock(pointer)
    return fresh
}
