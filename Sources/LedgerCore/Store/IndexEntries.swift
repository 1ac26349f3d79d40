import LMDB

/// Index entries (key → value) gathered during a write and put in key order at its end. A
/// batch's inserts into the id and stream indexes, in the order events come, land all over
/// those B-trees (LMDB then spills and re-reads dirty pages of a big transaction); the same
/// inserts sorted fill one page after another. Keys are kept in one buffer, not one array each.
package struct IndexEntries {
    private var bytes: [UInt8] = []
    private var entries: [Entry] = []

    private struct Entry {
        /// The key's first 8 bytes as a big-endian number, zero-padded: most comparisons end here.
        var prefix: UInt64
        var start: Int
        var count: Int
        var value: UInt64
    }

    package init(capacity: Int) {
        entries.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity * 24)
    }

    package mutating func add(_ key: UnsafeRawBufferPointer, value: UInt64) {
        var prefix: UInt64 = 0
        for i in 0..<8 { prefix = prefix << 8 | UInt64(i < key.count ? key[i] : 0) }
        entries.append(Entry(prefix: prefix, start: bytes.count, count: key.count, value: value))
        bytes.append(contentsOf: key)
    }

    /// Sorts the entries in LMDB's key order (bytes, then length); equal keys stay in the
    /// order they were added.
    package mutating func sort() {
        bytes.withUnsafeBytes { bytes in
            let base = bytes.baseAddress
            entries.sort { a, b in
                if a.prefix != b.prefix { return a.prefix < b.prefix }
                // The first 8 bytes are equal (or equal padded with zeros, which the lengths settle).
                guard let base, a.count > 8, b.count > 8 else { return a.count != b.count ? a.count < b.count : a.start < b.start }
                let order = Database.keyOrder(UnsafeRawBufferPointer(start: base + a.start + 8, count: a.count - 8),
                                               UnsafeRawBufferPointer(start: base + b.start + 8, count: b.count - 8))
                return order != 0 ? order < 0 : a.start < b.start
            }
        }
    }

    /// Calls `body` with each key that occurs more than once (after `sort()`), once each.
    package func forEachRepeatedKey(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { bytes in
            var index = 1
            while index < entries.count {
                let entry = entries[index]
                if sameKey(bytes, entry, entries[index - 1]) {
                    try body(slice(bytes, entry))
                    while index < entries.count, sameKey(bytes, entries[index], entry) { index += 1 }
                } else {
                    index += 1
                }
            }
        }
    }

    /// The value of the first entry with `key` (after `sort()`), found by binary search.
    package func firstValue(of key: UnsafeRawBufferPointer) -> UInt64? {
        bytes.withUnsafeBytes { bytes in
            var low = 0, high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if Database.keyOrder(slice(bytes, entries[middle]), key) < 0 { low = middle + 1 } else { high = middle }
            }
            guard low < entries.count, slice(bytes, entries[low]).elementsEqual(key) else { return nil }
            return entries[low].value
        }
    }

    /// Calls `body` with each key and value, in the current order.
    package func forEach(_ body: (UnsafeRawBufferPointer, UInt64) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { bytes in
            for entry in entries { try body(slice(bytes, entry), entry.value) }
        }
    }

    /// Puts the entries in their current order, each under the value `map` gives for its
    /// own (nil: not put), as an 8-byte big-endian number.
    /// Sorted, the entries go in through one cursor, which mostly finds the place on its page.
    package func put(into database: Database, _ txn: Transaction, options: PutOptions = [], map: (UInt64) -> UInt64? = { $0 }) throws {
        try txn.withCursor(database) { cursor in
            try forEach { key, value in
                guard let value = map(value) else { return }
                try value.withBigEndianBytes { try cursor.putAscending(key: key, value: $0, options: options) }
            }
        }
    }

    /// Whether two entries have the same key: their prefixes and lengths settle most.
    private func sameKey(_ bytes: UnsafeRawBufferPointer, _ a: Entry, _ b: Entry) -> Bool {
        a.prefix == b.prefix && a.count == b.count && (a.count <= 8 || Database.keyOrder(slice(bytes, a), slice(bytes, b)) == 0)
    }

    private func slice(_ bytes: UnsafeRawBufferPointer, _ entry: Entry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[entry.start..<entry.start + entry.count])
    }
}
