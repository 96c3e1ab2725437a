/// A bounds-checked little-endian reader over the mapped file. Every read checks the bytes that remain first and
/// throws `.truncated` naming what it was reading; nothing reads outside `[0, size)`.
struct GGUFCursor {
    let base: UnsafeRawPointer?
    let size: Int
    private(set) var offset: Int = 0

    init(base: UnsafeRawPointer?, size: Int) {
        self.base = base
        self.size = size
    }

    var remaining: Int { size - offset }

    /// Checks that `count` bytes remain and returns the position they start at.
    private mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> UnsafeRawPointer {
        guard count >= 0, count <= remaining, let base else {
            throw .truncated(what: what(), offset: offset, needed: count, fileSize: size)
        }
        let p = base + offset
        offset += count
        return p
    }

    mutating func bytes(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: try take(count, what()), count: count)
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(GGUFError) -> UInt8 {
        try take(1, what()).load(as: UInt8.self)
    }

    mutating func u16(_ what: @autoclosure () -> String) throws(GGUFError) -> UInt16 {
        UInt16(littleEndian: try take(2, what()).loadUnaligned(as: UInt16.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws(GGUFError) -> UInt32 {
        UInt32(littleEndian: try take(4, what()).loadUnaligned(as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String) throws(GGUFError) -> UInt64 {
        UInt64(littleEndian: try take(8, what()).loadUnaligned(as: UInt64.self))
    }

    /// A u64 count of elements that take at least `minimumElementSize` bytes each, rejected (before anything is
    /// allocated) when that many elements cannot fit in the bytes that remain after the count itself.
    mutating func count(_ what: @autoclosure () -> String, minimumElementSize: Int) throws(GGUFError) -> Int {
        let at = offset
        let n = try u64(what())
        let limit = UInt64(remaining / max(minimumElementSize, 1))
        guard n <= limit else {
            throw .lengthPastEnd(what: what(), length: n, offset: at, minimumElementSize: minimumElementSize,
                                 remaining: remaining)
        }
        return Int(n)  // n <= remaining <= Int.max
    }

    /// A u64 length then that many bytes of UTF-8 (invalid sequences repaired with U+FFFD).
    mutating func string(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        String(decoding: try stringBytes(what()), as: UTF8.self)
    }

    /// A string's bytes as they are on disk (not yet checked as UTF-8).
    mutating func stringBytes(_ what: @autoclosure () -> String) throws(GGUFError) -> UnsafeRawBufferPointer {
        let length = try count("length of " + what(), minimumElementSize: 1)
        return try bytes(length, what())
    }

    /// `count` strings (u64 length, bytes) back to back in one buffer, with each one's end offset in it. One pass over
    /// the lengths checks each against the bytes that remain and sums them, so the buffer is allocated once at its
    /// final size; a second copies. nil, with the cursor unmoved, when a length does not fit (the checked reads then
    /// say where and why).
    mutating func strings(_ count: Int) -> (bytes: [UInt8], ends: [Int])? {
        guard count > 0 else { return ([], []) }
        guard let base else { return nil }
        var at = offset, total = 0
        for _ in 0..<count {
            guard size - at >= 8 else { return nil }
            let length = UInt64(littleEndian: (base + at).loadUnaligned(as: UInt64.self))
            at += 8
            guard length <= UInt64(size - at) else { return nil }
            at += Int(length)
            total += Int(length)
        }
        let end = at
        at = offset
        var ends = [Int]()
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            ends = [Int](unsafeUninitializedCapacity: count) { e, made in
                var filled = 0
                for i in 0..<count {
                    let length = Int(UInt64(littleEndian: (base + at).loadUnaligned(as: UInt64.self)))
                    if length > 0 {
                        UnsafeMutableRawPointer(buffer.baseAddress! + filled).copyMemory(from: base + at + 8,
                                                                                         byteCount: length)
                    }
                    at += 8 + length
                    filled += length
                    e[i] = filled
                }
                made = count
            }
            initialized = total
        }
        offset = end
        return (bytes, ends)
    }

    /// `count` little-endian values of a fixed-size numeric type, copied in one go.
    mutating func array<T: FixedWidthInteger>(of: T.Type, _ count: Int, _ what: @autoclosure () -> String)
        throws(GGUFError) -> [T]
    {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.size)
        guard !overflow else { throw .truncated(what: what(), offset: offset, needed: Int.max, fileSize: size) }
        let raw = try bytes(byteCount, what())
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if byteCount > 0, let dst = buffer.baseAddress, let src = raw.baseAddress {
                UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: byteCount)
            }
            initialized = count
            #if _endian(big)
            for i in 0..<count { buffer[i] = T(littleEndian: buffer[i]) }
            #endif
        }
    }

    mutating func floats(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> [Float] {
        try array(of: UInt32.self, count, what()).map { Float(bitPattern: $0) }
    }

    mutating func doubles(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> [Double] {
        try array(of: UInt64.self, count, what()).map { Double(bitPattern: $0) }
    }
}
