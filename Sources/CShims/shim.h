// What Swift cannot spell on its own.

// glibc's heap settings (mallopt), which Swift's Glibc module does not include.
#include <malloc.h>

// Starts loading the cache line at `address` for a write soon, without waiting for it: the
// compiler's prefetch instruction, which Swift has no way to emit.
static inline void civic_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}
