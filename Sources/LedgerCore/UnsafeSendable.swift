/// Lets a buffer be handed to `concurrentPerform`, whose iterations write disjoint slots.
package struct UnsafeSendable<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}
