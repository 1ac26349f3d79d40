#if canImport(Glibc)
import CShims
#endif

/// Settings of the C heap for a process that prepares big batches.
package enum MemoryTuning {
    /// Sets glibc's `M_TOP_PAD` to 64 MiB: the main heap then grows 64 MiB at a time instead of
    /// 128 KiB, and (a side effect of setting it) blocks of 128 KiB or more always get their own
    /// mapping. For a million-event batch (then about 2 GB prepared on all cores; 1.5 GB with
    /// its input since preparing keeps no parsed `data`), the system time went from 2.5–3.1 s
    /// to 1.7–1.8 s; which of the two effects gives that is not pinned down.
    /// `append --batch` calls it before it reads its input; a small process does without (it
    /// would fault in about 2 MB more, some 1.5 ms of a single append).
    package static func forLargeBatches() {
        #if canImport(Glibc)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }
}
