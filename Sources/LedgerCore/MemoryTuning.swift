#if canImport(Glibc)
import CMalloc
#endif

/// Settings of the C heap for a process that prepares big batches.
package enum MemoryTuning {
    /// Grows each heap 64 MiB at a time instead of 128 KiB. A million-event batch prepared on
    /// all cores otherwise changes the address space (`brk`, `mprotect`) some ten thousand
    /// times, and each change holds up the other threads' page faults; that was a quarter of
    /// the system time of such a batch. Pages are still only touched as they are used.
    /// `append --batch` calls it before it reads its input; a small process does without (it
    /// would fault in about 2 MB more, some 1.5 ms of a single append).
    package static func forLargeBatches() {
        #if canImport(Glibc)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }
}
