#include <lmdb.h>

// sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE): starts writing the file's dirty pages to
// disk without waiting. Swift's Glibc module leaves it out (it is a GNU extension), so it is
// called as a system call, whose arguments are these on 64-bit Linux; elsewhere it reports
// ENOSYS and the commit simply waits for its sync as LMDB does.
#include <errno.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
static inline int civic_start_writeback(int fd) {
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
    return (int)syscall(SYS_sync_file_range, fd, (long)0, (long)0, 2u /* SYNC_FILE_RANGE_WRITE */);
#else
    (void)fd;
    errno = ENOSYS;
    return -1;
#endif
}

// fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length): reserves the file's blocks from `offset`
// on without changing its size. Called as a system call for the same reason as above;
// elsewhere it reports ENOSYS and LMDB's writes find their blocks as they go.
static inline int civic_preallocate(int fd, long offset, long length) {
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
    return (int)syscall(SYS_fallocate, fd, 1 /* FALLOC_FL_KEEP_SIZE */, offset, length);
#else
    (void)fd; (void)offset; (void)length;
    errno = ENOSYS;
    return -1;
#endif
}

// Whether `fd` is on tmpfs, whose reserved blocks would be memory held (statfs's f_type is
// TMPFS_MAGIC); 0 where that cannot be told.
static inline int civic_is_on_tmpfs(int fd) {
#if defined(__linux__)
    struct statfs fileSystem;
    return fstatfs(fd, &fileSystem) == 0 && fileSystem.f_type == 0x01021994 /* TMPFS_MAGIC */;
#else
    (void)fd;
    return 0;
#endif
}
