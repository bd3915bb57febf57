/* esp32sim — the board's filesystem: a host directory seen as "/" by the
 * firmware (docs/board-filesystem.md).
 *
 * Board paths are resolved by text first (current directory, ".", "..",
 * repeated slashes), then placed under the root. Before anything touches
 * the host, the deepest part of that host path which exists is resolved
 * with realpath() and must lie inside the root: symbolic links that lead
 * out (also dangling ones, which a create would follow) are refused. */
#define _XOPEN_SOURCE 700   /* realpath, readlink, lstat, fsync */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esp32sim/boardfs.h"

#define BLOCK_SIZE      4096u
#define NAME_MAX_BYTES  255u
/* littlefs keeps a file inside its directory's metadata while it is no
 * larger than min(cache_size, block_size / 8, 0x3fe). MicroPython's VfsLfs2
 * on the ESP32 uses readsize = progsize = 32, so cache_size = 4 * 32. */
#define INLINE_MAX      128u
#define ROOT_PAIR_BLOCKS 2u         /* superblock + root directory */
#define DIR_PAIR_BLOCKS  2u
#define BOARD_EPOCH     946684800   /* 2000-01-01T00:00:00Z as a Unix time */
#define LINK_HOPS       8           /* dangling links followed when checking */
#define WALK_DEPTH_MAX  (ESIM_BOARDFS_PATH_MAX / 2)

const char esim_boardfs_default_boot_py[] =
    "# This file is executed on every boot (including wake-boot from deepsleep)\n"
    "#import esp\n"
    "#esp.osdebug(None)\n"
    "#import webrepl\n"
    "#webrepl.start()\n";

struct esim_boardfs {
    char *root;                 /* realpath of the host directory */
    size_t root_len;
    uint64_t capacity;
    char cwd[ESIM_BOARDFS_PATH_MAX + 1];   /* "/" or "/a/b" */
};

/* ---- errors ---- */

/* The host's errno as the board would report it. */
static int board_errno(int host)
{
    switch (host) {
    case ENOENT: case EEXIST: case ENOTDIR: case EISDIR: case ENOTEMPTY:
    case EINVAL: case EACCES: case ENAMETOOLONG: case ENOMEM: case ENOSPC:
        return host;
    case EPERM: case EROFS: case ELOOP:
        return EACCES;
    default:
        return EIO;
    }
}

static int last_error(void)
{
    return board_errno(errno);
}

/* ---- board paths (text only) ---- */

/* Add one name to `out` (a normalized path without its leading "/" when
 * empty, length *len): "" and "." change nothing, ".." goes up, stopping at
 * the root. */
static int push_name(char *out, size_t *len, const char *name, size_t n)
{
    if (n == 0 || (n == 1 && name[0] == '.'))
        return 0;
    if (n == 2 && name[0] == '.' && name[1] == '.') {
        while (*len > 0 && out[*len - 1] != '/')
            (*len)--;
        if (*len > 0)
            (*len)--;
        out[*len] = '\0';
        return 0;
    }
    if (n > NAME_MAX_BYTES || *len + 1 + n > ESIM_BOARDFS_PATH_MAX)
        return ENAMETOOLONG;
    out[(*len)++] = '/';
    memcpy(out + *len, name, n);
    *len += n;
    out[*len] = '\0';
    return 0;
}

static int push_path(char *out, size_t *len, const char *path)
{
    while (*path != '\0') {
        const char *end = strchr(path, '/');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        int err = push_name(out, len, path, n);
        if (err)
            return err;
        path += n;
        if (*path == '/')
            path++;
    }
    return 0;
}

/* The absolute board path of `path`, "" for the root. */
static int normalize(const esim_boardfs *fs, const char *path, char out[ESIM_BOARDFS_PATH_MAX + 1])
{
    size_t len = 0;
    out[0] = '\0';
    if (path == NULL)
        return EINVAL;
    if (strlen(path) > ESIM_BOARDFS_PATH_MAX)
        return ENAMETOOLONG;
    if (path[0] != '/') {
        int err = push_path(out, &len, fs->cwd);
        if (err)
            return err;
    }
    return push_path(out, &len, path);
}

/* ---- host paths ---- */

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *p = malloc(na + nb + 1);
    if (p != NULL) {
        memcpy(p, a, na);
        memcpy(p + na, b, nb + 1);
    }
    return p;
}

static bool inside_root(const esim_boardfs *fs, const char *real)
{
    if (fs->root_len == 1)   /* the root is "/" itself */
        return true;
    return strncmp(real, fs->root, fs->root_len) == 0 &&
           (real[fs->root_len] == '\0' || real[fs->root_len] == '/');
}

/* Cut the last name off a host path; false when nothing is left. */
static bool strip_last(char *p)
{
    char *slash = strrchr(p, '/');
    if (slash == NULL)
        return false;
    if (slash == p) {
        if (p[1] == '\0')
            return false;
        p[1] = '\0';
    } else {
        *slash = '\0';
    }
    return true;
}

static int check_inside_path(const esim_boardfs *fs, char *p, int hops);

/* `p` is a link to nowhere: where it points must be inside too, or
 * creating through it would write outside. */
static int check_dangling_link(const esim_boardfs *fs, const char *p, int hops)
{
    char target[ESIM_BOARDFS_PATH_MAX * 4];
    ssize_t n = readlink(p, target, sizeof target - 1);
    if (n < 0 || hops <= 0)
        return EACCES;
    target[n] = '\0';
    char *next;
    if (target[0] == '/') {
        next = join(target, "");
    } else {
        char *dir = join(p, "");
        if (dir != NULL && strip_last(dir)) {
            char *with_slash = join(dir, "/");
            next = with_slash ? join(with_slash, target) : NULL;
            free(with_slash);
        } else {
            next = NULL;
        }
        free(dir);
    }
    if (next == NULL)
        return ENOMEM;
    int err = check_inside_path(fs, next, hops - 1);
    free(next);
    return err;
}

/* realpath() of the deepest existing ancestor of `p` (modified) must lie
 * inside the root. */
static int check_inside_path(const esim_boardfs *fs, char *p, int hops)
{
    for (;;) {
        char *real = realpath(p, NULL);
        if (real != NULL) {
            bool ok = inside_root(fs, real);
            free(real);
            return ok ? 0 : EACCES;
        }
        if (errno == ENOMEM || errno == ENAMETOOLONG)
            return errno;
        if (errno != ENOENT && errno != ENOTDIR)
            return EACCES;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
            return check_dangling_link(fs, p, hops);
        if (!strip_last(p))
            return EACCES;
    }
}

static int check_inside(const esim_boardfs *fs, const char *host)
{
    char *p = join(host, "");
    if (p == NULL)
        return ENOMEM;
    int err = check_inside_path(fs, p, LINK_HOPS);
    free(p);
    return err;
}

/* The directory that would hold `host` must exist. */
static int check_parent(const char *host)
{
    char *parent = join(host, "");
    if (parent == NULL)
        return ENOMEM;
    strip_last(parent);
    struct stat st;
    int err = stat(parent, &st) != 0 ? last_error() : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    free(parent);
    return err;
}

int esim_boardfs_resolve(const esim_boardfs *fs, const char *path, char **board_abs, char **host_path)
{
    char norm[ESIM_BOARDFS_PATH_MAX + 1];
    if (board_abs != NULL)
        *board_abs = NULL;
    if (host_path != NULL)
        *host_path = NULL;
    int err = normalize(fs, path, norm);
    if (err)
        return err;
    char *host = join(fs->root, norm);
    if (host == NULL)
        return ENOMEM;
    err = check_inside(fs, host);
    if (err == 0 && norm[0] != '\0')
        err = check_parent(host);
    if (err == 0 && board_abs != NULL) {
        *board_abs = join(norm[0] ? norm : "/", "");
        if (*board_abs == NULL)
            err = ENOMEM;
    }
    if (err == 0 && host_path != NULL) {
        *host_path = host;
        host = NULL;
    }
    free(host);
    return err;
}

/* ---- opening ---- */

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char *p = join(dir, "");
    if (p == NULL)
        return ENOMEM;
    int err = 0;
    for (char *s = p + 1; err == 0; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            err = last_error();
        if (end)
            break;
        *s = '/';
    }
    free(p);
    return err;
}

static int write_default_boot_py(const esim_boardfs *fs)
{
    char *path = join(fs->root, "/boot.py");
    if (path == NULL)
        return ENOMEM;
    FILE *f = fopen(path, "wb");
    free(path);
    if (f == NULL)
        return last_error();
    size_t n = sizeof esim_boardfs_default_boot_py - 1;
    int err = fwrite(esim_boardfs_default_boot_py, 1, n, f) == n ? 0 : EIO;
    if (fclose(f) != 0 && err == 0)
        err = EIO;
    return err;
}

/* Make the directory when it is missing and creating is allowed. */
static int prepare_dir(const char *host_dir, bool create, bool *made)
{
    struct stat st;
    *made = false;
    if (stat(host_dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (errno != ENOENT)
        return last_error();
    if (!create)
        return ENOENT;
    int err = make_dirs(host_dir);
    *made = err == 0;
    return err;
}

int esim_boardfs_open(const char *host_dir, uint64_t capacity_bytes, bool create, bool *created,
                      esim_boardfs **out)
{
    bool made = false;
    *out = NULL;
    if (created != NULL)
        *created = false;
    if (host_dir == NULL || host_dir[0] == '\0')
        return EINVAL;
    int err = prepare_dir(host_dir, create, &made);
    if (err)
        return err;
    esim_boardfs *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return ENOMEM;
    fs->root = realpath(host_dir, NULL);
    if (fs->root == NULL) {
        err = last_error();
        free(fs);
        return err;
    }
    fs->root_len = strlen(fs->root);
    fs->capacity = capacity_bytes;
    esim_boardfs_reset_cwd(fs);
    if (made)
        err = write_default_boot_py(fs);
    if (err) {
        esim_boardfs_close(fs);
        return err;
    }
    if (created != NULL)
        *created = made;
    *out = fs;
    return 0;
}

void esim_boardfs_close(esim_boardfs *fs)
{
    if (fs == NULL)
        return;
    free(fs->root);
    free(fs);
}

const char *esim_boardfs_root(const esim_boardfs *fs) { return fs->root; }

/* ---- current directory ---- */

void esim_boardfs_reset_cwd(esim_boardfs *fs) { strcpy(fs->cwd, "/"); }
const char *esim_boardfs_getcwd(const esim_boardfs *fs) { return fs->cwd; }

/* As VfsLfs2: anything that is not an existing directory is ENOENT. */
int esim_boardfs_chdir(esim_boardfs *fs, const char *path)
{
    char *abs = NULL, *host = NULL;
    int err = esim_boardfs_resolve(fs, path, &abs, &host);
    if (err == 0) {
        struct stat st;
        if (stat(host, &st) != 0 || !S_ISDIR(st.st_mode))
            err = ENOENT;
        else
            strcpy(fs->cwd, abs);
    }
    free(abs);
    free(host);
    return err;
}

/* ---- looking ---- */

static uint32_t board_time(time_t t)
{
    if (t <= BOARD_EPOCH)
        return 0;
    long long s = (long long)t - BOARD_EPOCH;
    return s > (long long)UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

int esim_boardfs_stat_path(const esim_boardfs *fs, const char *path, esim_boardfs_stat *out)
{
    char *host = NULL;
    int err = esim_boardfs_resolve(fs, path, NULL, &host);
    if (err)
        return err;
    struct stat st;
    if (stat(host, &st) != 0) {
        err = last_error();
    } else {
        out->is_dir = S_ISDIR(st.st_mode);
        out->size = out->is_dir ? 0 : (uint64_t)st.st_size;
        out->mtime = board_time(st.st_mtime);
    }
    free(host);
    return err;
}

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const esim_boardfs_entry *)a)->name, ((const esim_boardfs_entry *)b)->name);
}

/* What the board sees of the host entry `name` in `dir`: false for what
 * it cannot see (links leading out or nowhere, sockets, devices). */
static bool visible_entry(const esim_boardfs *fs, const char *dir, const char *name, esim_boardfs_entry *e)
{
    size_t n = strlen(name);
    if (n > NAME_MAX_BYTES || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    char *slash = join(dir, "/");
    char *path = slash ? join(slash, name) : NULL;
    free(slash);
    struct stat st;
    bool ok = path != NULL && lstat(path, &st) == 0;
    if (ok && S_ISLNK(st.st_mode))
        ok = check_inside(fs, path) == 0 && stat(path, &st) == 0;
    free(path);
    if (!ok || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
        return false;
    memcpy(e->name, name, n + 1);
    e->is_dir = S_ISDIR(st.st_mode);
    e->size = e->is_dir ? 0 : (uint64_t)st.st_size;
    return true;
}

static int append_entry(esim_boardfs_entry **list, size_t *count, size_t *cap, const esim_boardfs_entry *e)
{
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        esim_boardfs_entry *grown = realloc(*list, ncap * sizeof *grown);
        if (grown == NULL)
            return ENOMEM;
        *list = grown;
        *cap = ncap;
    }
    (*list)[(*count)++] = *e;
    return 0;
}

static int read_entries(const esim_boardfs *fs, const char *host, esim_boardfs_entry **list, size_t *count)
{
    DIR *d = opendir(host);
    if (d == NULL)
        return last_error();
    size_t cap = 0;
    int err = 0;
    esim_boardfs_entry e;
    for (struct dirent *de = readdir(d); de != NULL && err == 0; de = readdir(d))
        if (visible_entry(fs, host, de->d_name, &e))
            err = append_entry(list, count, &cap, &e);
    closedir(d);
    return err;
}

int esim_boardfs_listdir(const esim_boardfs *fs, const char *path, esim_boardfs_entry **entries, size_t *count)
{
    char *host = NULL;
    *entries = NULL;
    *count = 0;
    int err = esim_boardfs_resolve(fs, path, NULL, &host);
    if (err == 0)
        err = read_entries(fs, host, entries, count);
    free(host);
    if (err) {
        free(*entries);
        *entries = NULL;
        *count = 0;
        return err;
    }
    if (*count > 1)
        qsort(*entries, *count, sizeof **entries, compare_entries);
    return 0;
}

/* ---- changing ---- */

int esim_boardfs_mkdir(esim_boardfs *fs, const char *path)
{
    char *host = NULL;
    int err = esim_boardfs_resolve(fs, path, NULL, &host);
    if (err == 0 && mkdir(host, 0777) != 0)
        err = last_error();
    free(host);
    return err;
}

/* littlefs's lfs_remove, behind both os.remove and os.rmdir on the board:
 * a file, or an empty directory; the root is EINVAL. */
static int remove_entry(esim_boardfs *fs, const char *path)
{
    char *abs = NULL, *host = NULL;
    int err = esim_boardfs_resolve(fs, path, &abs, &host);
    struct stat st;
    if (err == 0 && strcmp(abs, "/") == 0)
        err = EINVAL;
    else if (err == 0 && lstat(host, &st) != 0)
        err = last_error();
    else if (err == 0 && (S_ISDIR(st.st_mode) ? rmdir(host) : unlink(host)) != 0)
        err = errno == EEXIST ? ENOTEMPTY : last_error();
    free(abs);
    free(host);
    return err;
}

int esim_boardfs_rmdir(esim_boardfs *fs, const char *path) { return remove_entry(fs, path); }
int esim_boardfs_remove(esim_boardfs *fs, const char *path) { return remove_entry(fs, path); }

int esim_boardfs_rename(esim_boardfs *fs, const char *from, const char *to)
{
    char *from_abs = NULL, *from_host = NULL, *to_abs = NULL, *to_host = NULL;
    int err = esim_boardfs_resolve(fs, from, &from_abs, &from_host);
    if (err == 0)
        err = esim_boardfs_resolve(fs, to, &to_abs, &to_host);
    if (err == 0 && (strcmp(from_abs, "/") == 0 || strcmp(to_abs, "/") == 0))
        err = EINVAL;
    if (err == 0 && rename(from_host, to_host) != 0)
        err = errno == EEXIST ? ENOTEMPTY : last_error();
    free(from_abs);
    free(from_host);
    free(to_abs);
    free(to_host);
    return err;
}

/* ---- the whole tree ---- */

typedef int (*visit_fn)(const char *host, const struct stat *st, void *ctx);

/* Every directory and regular file under `dir` (links are not followed). */
static int walk(const char *dir, int depth, visit_fn visit, void *ctx)
{
    if (depth > WALK_DEPTH_MAX)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return last_error();
    int err = 0;
    for (struct dirent *de = readdir(d); de != NULL && err == 0; de = readdir(d)) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *slash = join(dir, "/");
        char *path = slash ? join(slash, de->d_name) : NULL;
        free(slash);
        struct stat st;
        bool seen = path != NULL && lstat(path, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
        if (path == NULL)
            err = ENOMEM;
        else if (seen)
            err = visit(path, &st, ctx);
        if (err == 0 && seen && S_ISDIR(st.st_mode))
            err = walk(path, depth + 1, visit, ctx);
        free(path);
    }
    closedir(d);
    return err;
}

static int count_blocks(const char *host, const struct stat *st, void *ctx)
{
    (void)host;
    uint64_t *used = ctx;
    uint64_t size = (uint64_t)st->st_size;
    if (S_ISDIR(st->st_mode))
        *used += DIR_PAIR_BLOCKS;
    else if (size > INLINE_MAX)
        *used += (size + BLOCK_SIZE - 1) / BLOCK_SIZE;
    return 0;
}

int esim_boardfs_statvfs_get(const esim_boardfs *fs, esim_boardfs_statvfs *out)
{
    uint64_t used = ROOT_PAIR_BLOCKS;
    int err = walk(fs->root, 0, count_blocks, &used);
    if (err)
        return err;
    uint64_t blocks = fs->capacity / BLOCK_SIZE;
    if (blocks > UINT32_MAX)
        blocks = UINT32_MAX;
    uint32_t free_blocks = used >= blocks ? 0 : (uint32_t)(blocks - used);
    *out = (esim_boardfs_statvfs){
        .bsize = BLOCK_SIZE, .frsize = BLOCK_SIZE, .blocks = (uint32_t)blocks,
        .bfree = free_blocks, .bavail = free_blocks,
        .files = 0, .ffree = 0, .favail = 0, .flag = 0, .namemax = NAME_MAX_BYTES,
    };
    return 0;
}

static int sync_one(const char *host, const struct stat *st, void *ctx)
{
    (void)st;
    (void)ctx;
    int fd = open(host, O_RDONLY);
    if (fd < 0)
        return 0;   /* nothing of ours is buffered for what we cannot open */
    int err = fsync(fd) != 0 && errno != EINVAL ? EIO : 0;
    close(fd);
    return err;
}

int esim_boardfs_sync(const esim_boardfs *fs)
{
    int err = walk(fs->root, 0, sync_one, NULL);
    struct stat st;
    if (err == 0 && stat(fs->root, &st) == 0)
        err = sync_one(fs->root, &st, NULL);
    return err;
}
