/// A list of plain values in memory it owns: cleared, not freed, between uses, and shared by
/// reference (a class), so slices of it stay valid until it next grows. For what is refilled
/// for every event on a hot path (a `JSONTape`'s lists, the bytes of a prepared event): an
/// Array's append checks uniqueness and capacity through calls each time. One per thread.
public final class ReusableBuffer<Element: BitwiseCopyable> {
    @usableFromInline struct State {
        @usableFromInline var base: UnsafeMutablePointer<Element>
        @usableFromInline var capacity: Int
        @usableFromInline var count: Int
    }

    // Behind a pointer rather than in stored `var`s: used from another module, a class's
    // `var`s are checked for exclusive access at run time on every use, which cost more
    // than the appends themselves.
    @usableFromInline let state: UnsafeMutablePointer<State>

    public init(capacity: Int) {
        state = .allocate(capacity: 1)
        state.initialize(to: State(base: .allocate(capacity: max(1, capacity)), capacity: max(1, capacity), count: 0))
    }

    deinit {
        state.pointee.base.deallocate()
        state.deallocate()
    }

    @inlinable public var count: Int { state.pointee.count }

    @inlinable @inline(__always)
    public subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < state.pointee.count, "ReusableBuffer: index out of range")
            return state.pointee.base[index]
        }
        set {
            precondition(index >= 0 && index < state.pointee.count, "ReusableBuffer: index out of range")
            state.pointee.base[index] = newValue
        }
    }

    /// `count` elements from `start`, valid until the buffer next grows.
    @inlinable @inline(__always)
    public func slice(_ start: Int, count: Int) -> UnsafeBufferPointer<Element> {
        precondition(start >= 0 && count >= 0 && start + count <= state.pointee.count, "ReusableBuffer: slice out of range")
        return UnsafeBufferPointer(start: state.pointee.base + start, count: count)
    }

    /// All the elements, valid until the buffer next grows.
    @inlinable
    public var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: state.pointee.base, count: state.pointee.count) }

    @inlinable
    public func removeAll() { state.pointee.count = 0 }

    @inlinable
    public func removeLast(_ k: Int) {
        precondition(k >= 0 && k <= state.pointee.count, "ReusableBuffer: removing more than it holds")
        state.pointee.count -= k
    }

    @inlinable @inline(__always)
    public func append(_ element: Element) {
        let count = state.pointee.count
        if count == state.pointee.capacity { grow(to: count + 1) }
        state.pointee.base[count] = element
        state.pointee.count = count + 1
    }

    @inlinable @inline(__always)
    public func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress else { return }
        let count = state.pointee.count
        if count + elements.count > state.pointee.capacity { grow(to: count + elements.count) }
        (state.pointee.base + count).update(from: source, count: elements.count)
        state.pointee.count = count + elements.count
    }

    @inlinable
    public func swapAt(_ i: Int, _ j: Int) {
        let saved = self[i]
        self[i] = self[j]
        self[j] = saved
    }

    @usableFromInline
    func grow(to minimum: Int) {
        let capacity = max(minimum, state.pointee.capacity * 2)
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: capacity)
        grown.update(from: state.pointee.base, count: state.pointee.count)
        state.pointee.base.deallocate()
        state.pointee.base = grown
        state.pointee.capacity = capacity
    }
}

/// Where canonical bytes are written: an array, a `ReusableBuffer` refilled from event to
/// event, or the place LMDB reserves for a record (LedgerCore's `ByteWriter`). The canonical
/// writers are generic over it so that the hot paths append without an array's calls, and
/// everything else keeps writing to arrays.
public protocol ByteSink {
    /// How many bytes it holds.
    var count: Int { get }
    mutating func append(_ byte: UInt8)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>)
}

extension Array: ByteSink where Element == UInt8 {}

extension ReusableBuffer: ByteSink where Element == UInt8 {}

extension ByteSink {
    @inlinable @inline(__always)
    public mutating func append(_ text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
