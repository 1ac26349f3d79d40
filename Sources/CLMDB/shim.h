#include <lmdb.h>

// sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE): starts writing the file's dirty pages to
// disk without waiting. Swift's Glibc module leaves it out (it is a GNU extension).
#include <sys/syscall.h>
#include <unistd.h>
static inline int civic_start_writeback(int fd) {
    return (int)syscall(SYS_sync_file_range, fd, (long)0, (long)0, 2u /* SYNC_FILE_RANGE_WRITE */);
}
