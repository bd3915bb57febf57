/* esp32sim — the board's filesystem: a host directory that the firmware
 * sees as "/", where MicroPython on a board mounts its littlefs "vfs"
 * partition (docs/board-filesystem.md).
 *
 * Paths given to these functions are board paths ("/lib/util.py",
 * "data.txt", "../x"), resolved against the board's current directory
 * with "." and ".." handled as MicroPython's VFS does (".." at "/" stays at
 * "/"). No path resolves outside the root: a symbolic link inside the host
 * directory that leads out of it is refused (EACCES).
 *
 * Errors are errno values as MicroPython reports them (ENOENT, EEXIST,
 * ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, EACCES, ENAMETOOLONG, ENOMEM, EIO);
 * functions return 0 or that value, and never touch anything outside the
 * root. */
#ifndef ESP32SIM_BOARDFS_H
#define ESP32SIM_BOARDFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct esim_boardfs esim_boardfs;

/* The longest board path accepted (littlefs's LFS_NAME_MAX is 255 per
 * name; a whole path is limited here): longer ones are ENAMETOOLONG. */
#define ESIM_BOARDFS_PATH_MAX 1024

/* What MicroPython's inisetup.py writes as /boot.py on a new filesystem. */
extern const char esim_boardfs_default_boot_py[];

/* Open the host directory `host_dir` as a board filesystem of
 * `capacity_bytes` (the vfs partition's size; statvfs reports from it).
 * When the directory does not exist and `create` is set, it is made
 * (parents too) and given the default /boot.py, as MicroPython's first boot
 * formats the vfs partition; *created (may be NULL) says so. Without
 * `create` a missing directory is ENOENT; a path that is not a directory is
 * ENOTDIR. The current directory starts at "/". */
int esim_boardfs_open(const char *host_dir, uint64_t capacity_bytes, bool create, bool *created,
                      esim_boardfs **out);
void esim_boardfs_close(esim_boardfs *fs);   /* NULL is accepted */

/* The host directory (absolute, symlinks resolved). */
const char *esim_boardfs_root(const esim_boardfs *fs);

/* Current directory: a fresh boot starts at "/". */
void esim_boardfs_reset_cwd(esim_boardfs *fs);
const char *esim_boardfs_getcwd(const esim_boardfs *fs);
int esim_boardfs_chdir(esim_boardfs *fs, const char *path);

/* The absolute board path `path` names (normalized, no "." or "..") and the
 * host path behind it, both malloc'd (either out pointer may be NULL). The
 * target need not exist, but its parent must resolve inside the root. */
int esim_boardfs_resolve(const esim_boardfs *fs, const char *path, char **board_abs, char **host_path);

typedef struct {
    bool is_dir;
    uint64_t size;             /* 0 for directories */
    uint32_t mtime;            /* seconds since 2000-01-01 (the board's epoch) */
} esim_boardfs_stat;

int esim_boardfs_stat_path(const esim_boardfs *fs, const char *path, esim_boardfs_stat *out);

typedef struct {
    char name[256];
    bool is_dir;
    uint64_t size;
} esim_boardfs_entry;

/* Entries of a directory (no "." or ".."), sorted by name as littlefs keeps
 * them. *entries is malloc'd (NULL when empty). */
int esim_boardfs_listdir(const esim_boardfs *fs, const char *path, esim_boardfs_entry **entries, size_t *count);

int esim_boardfs_mkdir(esim_boardfs *fs, const char *path);    /* EEXIST, ENOENT (no parent) */
/* rmdir and remove are both littlefs's lfs_remove, as on the board: a file
 * or an empty directory goes; ENOTEMPTY for a directory with entries;
 * "/" is EINVAL. */
int esim_boardfs_rmdir(esim_boardfs *fs, const char *path);
int esim_boardfs_remove(esim_boardfs *fs, const char *path);
/* rename replaces an existing file target, as littlefs does. */
int esim_boardfs_rename(esim_boardfs *fs, const char *from, const char *to);

/* f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree,
 * f_favail, f_flag, f_namemax as MicroPython's VfsLfs2 reports them: 4096
 * byte blocks over the capacity, used blocks by littlefs's layout (docs). */
typedef struct {
    uint32_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail, flag, namemax;
} esim_boardfs_statvfs;

int esim_boardfs_statvfs_get(const esim_boardfs *fs, esim_boardfs_statvfs *out);

/* Flush what the host has buffered for the directory's files (fsync). */
int esim_boardfs_sync(const esim_boardfs *fs);

#endif
