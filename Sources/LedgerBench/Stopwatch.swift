#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock seconds of `body`, from the monotonic clock.
func measure(_ body: () throws -> Void) rethrows -> Double {
    var start = timespec(), end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    try body()
    clock_gettime(CLOCK_MONOTONIC, &end)
    return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// A fresh, empty directory under `base`.
func freshDirectory(_ base: String, _ name: String) -> String {
    let path = base + "/" + name
    _ = system("rm -rf '\(path)' && mkdir -p '\(path)'")
    return path
}
