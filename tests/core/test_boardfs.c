/* Tests for the board's filesystem: creation and the default boot.py, path
 * resolution, every error, escapes (.., absolute paths, symbolic links),
 * listing order, rename, the statvfs model, and the device that opens it. */
#define _XOPEN_SOURCE 700   /* mkdtemp, nftw, symlink */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "esp32sim/boardfs.h"
#include "esp32sim/device.h"

#define TWO_MIB (2u * 1024u * 1024u)

typedef struct {
    char tmp[64];        /* the test's temporary directory */
    char root[128];      /* tmp/fs: the board's filesystem */
    char outside[128];   /* tmp/outside: must never be reachable */
    esim_boardfs *fs;
} fixture;

/* ---- helpers ---- */

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_sized(const char *path, size_t n)
{
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    memset(buf, 'x', n);
    write_file(path, buf, n);
    free(buf);
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    static char buf[8192];
    *n = fread(buf, 1, sizeof buf - 1, f);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

/* A path under the fixture's root, on the host. */
static const char *in_root(const fixture *fx, const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", fx->root, rel);
    return path;
}

static bool host_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    strcpy(fx->tmp, "/tmp/esim-fs-XXXXXX");
    assert_non_null(mkdtemp(fx->tmp));
    snprintf(fx->root, sizeof fx->root, "%s/fs", fx->tmp);
    snprintf(fx->outside, sizeof fx->outside, "%s/outside", fx->tmp);
    assert_int_equal(mkdir(fx->outside, 0777), 0);
    char secret[160];
    snprintf(secret, sizeof secret, "%s/secret", fx->outside);
    write_file(secret, "top secret", 10);
    bool created = false;
    assert_int_equal(esim_boardfs_open(fx->root, TWO_MIB, true, &created, &fx->fs), 0);
    assert_true(created);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    esim_boardfs_close(fx->fs);
    nftw(fx->tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static char *resolved(esim_boardfs *fs, const char *path)
{
    char *abs = NULL;
    assert_int_equal(esim_boardfs_resolve(fs, path, &abs, NULL), 0);
    return abs;
}

static void assert_resolves(esim_boardfs *fs, const char *path, const char *expected)
{
    char *abs = resolved(fs, path);
    assert_string_equal(abs, expected);
    free(abs);
}

static uint32_t free_blocks(esim_boardfs *fs)
{
    esim_boardfs_statvfs v;
    assert_int_equal(esim_boardfs_statvfs_get(fs, &v), 0);
    return v.bfree;
}

/* ---- creating ---- */

static void test_create_writes_the_default_boot_py(void **state)
{
    fixture *fx = *state;
    const char *expected = "# This file is executed on every boot (including wake-boot from deepsleep)\n"
                           "#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n";
    assert_string_equal(esim_boardfs_default_boot_py, expected);
    size_t n = 0;
    char *text = read_file(in_root(fx, "boot.py"), &n);
    assert_non_null(text);
    assert_int_equal(n, strlen(expected));
    assert_string_equal(text, expected);

    esim_boardfs_entry *e = NULL;
    size_t count = 0;
    assert_int_equal(esim_boardfs_listdir(fx->fs, "/", &e, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(e[0].name, "boot.py");
    assert_false(e[0].is_dir);
    assert_int_equal(e[0].size, n);
    free(e);
    assert_string_equal(esim_boardfs_getcwd(fx->fs), "/");
}

static void test_open_existing_missing_and_bad(void **state)
{
    fixture *fx = *state;
    esim_boardfs *fs = NULL;
    bool created = true;

    /* An existing directory is used as it is, even when creating is allowed. */
    write_file(in_root(fx, "boot.py"), "print(1)\n", 9);
    assert_int_equal(esim_boardfs_open(fx->root, TWO_MIB, true, &created, &fs), 0);
    assert_false(created);
    size_t n = 0;
    assert_string_equal(read_file(in_root(fx, "boot.py"), &n), "print(1)\n");
    esim_boardfs_close(fs);

    /* Missing: ENOENT without create; made with its parents with create. */
    char deep[256];
    snprintf(deep, sizeof deep, "%s/new/deeper/fs", fx->tmp);
    assert_int_equal(esim_boardfs_open(deep, TWO_MIB, false, &created, &fs), ENOENT);
    assert_null(fs);
    assert_false(host_exists(deep));
    assert_int_equal(esim_boardfs_open(deep, TWO_MIB, true, &created, &fs), 0);
    assert_true(created);
    char boot[300];
    snprintf(boot, sizeof boot, "%s/boot.py", deep);
    assert_true(host_exists(boot));
    esim_boardfs_close(fs);

    /* A file is not a directory; no path is EINVAL. */
    assert_int_equal(esim_boardfs_open(in_root(fx, "boot.py"), TWO_MIB, true, NULL, &fs), ENOTDIR);
    assert_int_equal(esim_boardfs_open("", TWO_MIB, true, NULL, &fs), EINVAL);
    assert_int_equal(esim_boardfs_open(NULL, TWO_MIB, true, NULL, &fs), EINVAL);
    esim_boardfs_close(NULL);
}

static void test_root_is_the_real_path(void **state)
{
    fixture *fx = *state;
    char link[160];
    snprintf(link, sizeof link, "%s/link-to-fs", fx->tmp);
    assert_int_equal(symlink(fx->root, link), 0);
    esim_boardfs *fs = NULL;
    assert_int_equal(esim_boardfs_open(link, TWO_MIB, false, NULL, &fs), 0);
    char *real = realpath(fx->root, NULL);
    assert_string_equal(esim_boardfs_root(fs), real);
    free(real);
    esim_boardfs_close(fs);
}

/* ---- resolution ---- */

static void test_resolution_is_lexical(void **state)
{
    fixture *fx = *state;
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "a"), 0);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "/a/b"), 0);
    assert_resolves(fx->fs, "/", "/");
    assert_resolves(fx->fs, "", "/");
    assert_resolves(fx->fs, ".", "/");
    assert_resolves(fx->fs, "..", "/");
    assert_resolves(fx->fs, "../../..", "/");
    assert_resolves(fx->fs, "//a///b//", "/a/b");
    assert_resolves(fx->fs, "a/./b/../b/x", "/a/b/x");
    assert_resolves(fx->fs, "/../a/../../a/b", "/a/b");

    char *host = NULL, *abs = NULL;
    assert_int_equal(esim_boardfs_resolve(fx->fs, "a/b/new.txt", &abs, &host), 0);
    assert_string_equal(abs, "/a/b/new.txt");
    char *real = realpath(fx->root, NULL);
    char expected[4096];
    snprintf(expected, sizeof expected, "%s/a/b/new.txt", real);
    assert_string_equal(host, expected);
    free(abs);
    free(host);
    assert_int_equal(esim_boardfs_resolve(fx->fs, "/", NULL, &host), 0);
    assert_string_equal(host, real);
    free(host);
    free(real);
    assert_int_equal(esim_boardfs_resolve(fx->fs, "a", NULL, NULL), 0);
}

static void test_current_directory(void **state)
{
    fixture *fx = *state;
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "a"), 0);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "a/b"), 0);
    assert_int_equal(esim_boardfs_chdir(fx->fs, "a"), 0);
    assert_string_equal(esim_boardfs_getcwd(fx->fs), "/a");
    assert_int_equal(esim_boardfs_chdir(fx->fs, "b/"), 0);
    assert_string_equal(esim_boardfs_getcwd(fx->fs), "/a/b");
    assert_resolves(fx->fs, "x.py", "/a/b/x.py");
    assert_resolves(fx->fs, "../x.py", "/a/x.py");
    assert_resolves(fx->fs, "/x.py", "/x.py");
    assert_resolves(fx->fs, "", "/a/b");

    /* A relative mkdir lands in the current directory. */
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "c"), 0);
    assert_true(host_exists(in_root(fx, "a/b/c")));

    /* chdir to a file or to nothing is ENOENT (VfsLfs2) and keeps the cwd. */
    write_file(in_root(fx, "a/f.txt"), "x", 1);
    assert_int_equal(esim_boardfs_chdir(fx->fs, "../f.txt"), ENOENT);
    assert_int_equal(esim_boardfs_chdir(fx->fs, "nothing"), ENOENT);
    assert_string_equal(esim_boardfs_getcwd(fx->fs), "/a/b");

    assert_int_equal(esim_boardfs_chdir(fx->fs, "../../../.."), 0);
    assert_string_equal(esim_boardfs_getcwd(fx->fs), "/");
    assert_int_equal(esim_boardfs_chdir(fx->fs, "/a"), 0);
    esim_boardfs_reset_cwd(fx->fs);
    assert_string_equal(esim_boardfs_getcwd(fx->fs), "/");
}

static void test_name_and_path_limits(void **state)
{
    fixture *fx = *state;
    char name[300];
    memset(name, 'n', 255);
    name[255] = '\0';
    assert_int_equal(esim_boardfs_mkdir(fx->fs, name), 0);           /* 255 bytes: fine */
    memset(name, 'n', 256);
    name[256] = '\0';
    assert_int_equal(esim_boardfs_mkdir(fx->fs, name), ENAMETOOLONG);
    assert_int_equal(esim_boardfs_resolve(fx->fs, name, NULL, NULL), ENAMETOOLONG);

    /* A path longer than ESIM_BOARDFS_PATH_MAX, even one that would shrink. */
    char path[ESIM_BOARDFS_PATH_MAX + 10];
    memset(path, '/', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    assert_int_equal(esim_boardfs_resolve(fx->fs, path, NULL, NULL), ENAMETOOLONG);
    memset(path, '/', ESIM_BOARDFS_PATH_MAX);
    path[ESIM_BOARDFS_PATH_MAX] = '\0';
    assert_int_equal(esim_boardfs_resolve(fx->fs, path, NULL, NULL), 0);

    /* Long only once joined to the current directory. */
    char dir[ESIM_BOARDFS_PATH_MAX];
    memset(name, 'd', 200);
    name[200] = '\0';
    dir[0] = '\0';
    for (int i = 0; i < 4; i++) {                 /* a cwd of 4 * 201 bytes */
        strcat(dir, "/");
        strcat(dir, name);
        assert_int_equal(esim_boardfs_mkdir(fx->fs, dir), 0);
    }
    assert_int_equal(esim_boardfs_chdir(fx->fs, dir), 0);
    assert_int_equal(esim_boardfs_resolve(fx->fs, name, NULL, NULL), 0);      /* 1005 bytes */
    char longer[260];
    memset(longer, 'e', 250);
    longer[250] = '\0';
    assert_int_equal(esim_boardfs_resolve(fx->fs, longer, NULL, NULL), ENAMETOOLONG);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, longer), ENAMETOOLONG);
}

/* ---- errors ---- */

static void test_stat_and_its_errors(void **state)
{
    fixture *fx = *state;
    esim_boardfs_stat st;
    write_file(in_root(fx, "data.bin"), "0123456789", 10);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "dir"), 0);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "data.bin", &st), 0);
    assert_false(st.is_dir);
    assert_int_equal(st.size, 10);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "/dir", &st), 0);
    assert_true(st.is_dir);
    assert_int_equal(st.size, 0);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "/", &st), 0);
    assert_true(st.is_dir);

    assert_int_equal(esim_boardfs_stat_path(fx->fs, "missing", &st), ENOENT);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "missing/x", &st), ENOENT);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "data.bin/x", &st), ENOTDIR);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "data.bin/x/y", &st), ENOTDIR);
}

static void test_mtime_counts_from_2000(void **state)
{
    fixture *fx = *state;
    esim_boardfs_stat st;
    struct utimbuf t = {946684800 + 1000, 946684800 + 12345};
    assert_int_equal(utime(in_root(fx, "boot.py"), &t), 0);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "boot.py", &st), 0);
    assert_int_equal(st.mtime, 12345);
    t.modtime = 946684800 - 5;             /* before the board's epoch */
    assert_int_equal(utime(in_root(fx, "boot.py"), &t), 0);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "boot.py", &st), 0);
    assert_int_equal(st.mtime, 0);
}

static void test_mkdir_errors(void **state)
{
    fixture *fx = *state;
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "d"), 0);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "d"), EEXIST);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "boot.py"), EEXIST);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "/"), EEXIST);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "no/such"), ENOENT);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "boot.py/sub"), ENOTDIR);
}

static void test_remove_and_rmdir_as_lfs_remove(void **state)
{
    fixture *fx = *state;
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "full"), 0);
    write_file(in_root(fx, "full/f"), "x", 1);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "empty"), 0);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "empty2"), 0);
    write_file(in_root(fx, "g"), "x", 1);

    assert_int_equal(esim_boardfs_rmdir(fx->fs, "full"), ENOTEMPTY);
    assert_int_equal(esim_boardfs_remove(fx->fs, "full"), ENOTEMPTY);
    assert_int_equal(esim_boardfs_rmdir(fx->fs, "/"), EINVAL);
    assert_int_equal(esim_boardfs_remove(fx->fs, "/"), EINVAL);
    assert_int_equal(esim_boardfs_remove(fx->fs, ".."), EINVAL);
    assert_int_equal(esim_boardfs_remove(fx->fs, "missing"), ENOENT);
    assert_int_equal(esim_boardfs_rmdir(fx->fs, "missing"), ENOENT);
    assert_int_equal(esim_boardfs_remove(fx->fs, "g/x"), ENOTDIR);
    assert_true(host_exists(in_root(fx, "full/f")));

    /* As littlefs's lfs_remove: either call takes a file or an empty dir. */
    assert_int_equal(esim_boardfs_remove(fx->fs, "full/f"), 0);
    assert_int_equal(esim_boardfs_rmdir(fx->fs, "full"), 0);
    assert_int_equal(esim_boardfs_remove(fx->fs, "empty"), 0);
    assert_int_equal(esim_boardfs_rmdir(fx->fs, "g"), 0);
    assert_int_equal(esim_boardfs_rmdir(fx->fs, "empty2/"), 0);
    assert_false(host_exists(in_root(fx, "full")));
    assert_false(host_exists(in_root(fx, "empty")));
    assert_false(host_exists(in_root(fx, "empty2")));
    assert_false(host_exists(in_root(fx, "g")));
    assert_true(host_exists(fx->root));
}

static void test_rename(void **state)
{
    fixture *fx = *state;
    write_file(in_root(fx, "a.txt"), "AAA", 3);
    write_file(in_root(fx, "b.txt"), "B", 1);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "d"), 0);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "e"), 0);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "full"), 0);
    write_file(in_root(fx, "full/x"), "x", 1);

    /* Over an existing file: replaced, as littlefs does. */
    assert_int_equal(esim_boardfs_rename(fx->fs, "a.txt", "b.txt"), 0);
    size_t n = 0;
    assert_string_equal(read_file(in_root(fx, "b.txt"), &n), "AAA");
    assert_false(host_exists(in_root(fx, "a.txt")));

    assert_int_equal(esim_boardfs_rename(fx->fs, "b.txt", "d/moved.txt"), 0);
    assert_true(host_exists(in_root(fx, "d/moved.txt")));
    assert_int_equal(esim_boardfs_chdir(fx->fs, "d"), 0);
    assert_int_equal(esim_boardfs_rename(fx->fs, "moved.txt", "../back.txt"), 0);
    assert_true(host_exists(in_root(fx, "back.txt")));
    esim_boardfs_reset_cwd(fx->fs);

    assert_int_equal(esim_boardfs_rename(fx->fs, "missing", "x"), ENOENT);
    assert_int_equal(esim_boardfs_rename(fx->fs, "back.txt", "no/x"), ENOENT);
    assert_int_equal(esim_boardfs_rename(fx->fs, "back.txt", "d"), EISDIR);
    assert_int_equal(esim_boardfs_rename(fx->fs, "d", "back.txt"), ENOTDIR);
    assert_int_equal(esim_boardfs_rename(fx->fs, "d", "full"), ENOTEMPTY);
    assert_int_equal(esim_boardfs_rename(fx->fs, "d", "d/inner"), EINVAL);
    assert_int_equal(esim_boardfs_rename(fx->fs, "/", "x"), EINVAL);
    assert_int_equal(esim_boardfs_rename(fx->fs, "d", "/"), EINVAL);
    assert_int_equal(esim_boardfs_rename(fx->fs, "d", ".."), EINVAL);

    /* A directory over an empty one replaces it. */
    assert_int_equal(esim_boardfs_rename(fx->fs, "d", "e"), 0);
    assert_false(host_exists(in_root(fx, "d")));
    assert_true(host_exists(in_root(fx, "e")));
}

static void test_listdir_is_sorted_by_name(void **state)
{
    fixture *fx = *state;
    assert_int_equal(esim_boardfs_remove(fx->fs, "boot.py"), 0);
    const char *names[] = {"b", "aa", "B", "a.txt", "a", "_x", "Z9"};
    for (size_t i = 0; i < 7; i++)
        write_file(in_root(fx, names[i]), names[i], strlen(names[i]));
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "ab"), 0);

    esim_boardfs_entry *e = NULL;
    size_t count = 0;
    assert_int_equal(esim_boardfs_listdir(fx->fs, "", &e, &count), 0);
    const char *sorted[] = {"B", "Z9", "_x", "a", "a.txt", "aa", "ab", "b"};
    assert_int_equal(count, 8);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(e[i].name, sorted[i]);
        assert_int_equal(e[i].is_dir, strcmp(sorted[i], "ab") == 0);
        assert_int_equal(e[i].size, e[i].is_dir ? 0 : strlen(sorted[i]));
    }
    free(e);

    assert_int_equal(esim_boardfs_listdir(fx->fs, "ab", &e, &count), 0);
    assert_int_equal(count, 0);
    assert_null(e);
    assert_int_equal(esim_boardfs_listdir(fx->fs, "missing", &e, &count), ENOENT);
    assert_int_equal(esim_boardfs_listdir(fx->fs, "aa", &e, &count), ENOTDIR);
    assert_null(e);
    assert_int_equal(count, 0);
}

/* ---- no way out ---- */

static void test_dot_dot_and_absolute_paths_stay_inside(void **state)
{
    fixture *fx = *state;
    esim_boardfs_stat st;
    /* tmp/outside/secret is ../outside/secret from the root on the host. */
    assert_int_equal(esim_boardfs_resolve(fx->fs, "../outside/secret", NULL, NULL), ENOENT);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "../outside/secret", &st), ENOENT);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "/../../outside/secret", &st), ENOENT);
    char abs_secret[200];
    snprintf(abs_secret, sizeof abs_secret, "%s/secret", fx->outside);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, abs_secret, &st), ENOENT);
    assert_int_equal(esim_boardfs_remove(fx->fs, "../outside/secret"), ENOENT);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "../outside/new"), ENOENT);
    assert_int_equal(esim_boardfs_rename(fx->fs, "boot.py", "../outside/boot.py"), ENOENT);

    /* With a board directory of that name, the board one is meant. */
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "../outside"), 0);
    assert_resolves(fx->fs, "../outside/secret", "/outside/secret");
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "../outside/secret", &st), ENOENT);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, abs_secret + 1, &st), ENOENT);

    /* ".." below a name is still lexical: it never leaves the root. */
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "../../etc"), 0);
    assert_true(host_exists(in_root(fx, "etc")));
    assert_true(host_exists(abs_secret));
    char outside_boot[200];
    snprintf(outside_boot, sizeof outside_boot, "%s/boot.py", fx->outside);
    assert_false(host_exists(outside_boot));
}

static void test_symlinks_out_are_refused(void **state)
{
    fixture *fx = *state;
    char target[200];
    esim_boardfs_stat st;
    esim_boardfs_entry *e = NULL;
    size_t count = 0;
    assert_int_equal(symlink(fx->outside, in_root(fx, "out")), 0);
    snprintf(target, sizeof target, "%s/secret", fx->outside);
    assert_int_equal(symlink(target, in_root(fx, "secret-link")), 0);
    snprintf(target, sizeof target, "%s/created-through-link", fx->outside);
    assert_int_equal(symlink(target, in_root(fx, "dangling")), 0);
    assert_int_equal(symlink("../outside/also-created", in_root(fx, "relative-dangling")), 0);

    assert_int_equal(esim_boardfs_resolve(fx->fs, "out", NULL, NULL), EACCES);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "out", &st), EACCES);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "out/secret", &st), EACCES);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "secret-link", &st), EACCES);
    assert_int_equal(esim_boardfs_listdir(fx->fs, "out", &e, &count), EACCES);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "out/new"), EACCES);
    assert_int_equal(esim_boardfs_remove(fx->fs, "out/secret"), EACCES);
    assert_int_equal(esim_boardfs_rename(fx->fs, "boot.py", "out/boot.py"), EACCES);
    assert_int_equal(esim_boardfs_rename(fx->fs, "out/secret", "stolen"), EACCES);
    assert_int_equal(esim_boardfs_chdir(fx->fs, "out"), EACCES);
    assert_int_equal(esim_boardfs_resolve(fx->fs, "dangling", NULL, NULL), EACCES);
    assert_int_equal(esim_boardfs_resolve(fx->fs, "relative-dangling", NULL, NULL), EACCES);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "dangling"), EACCES);
    assert_true(host_exists(target) == false);
    snprintf(target, sizeof target, "%s/secret", fx->outside);
    assert_true(host_exists(target));

    /* Links out are not listed at all. */
    assert_int_equal(esim_boardfs_listdir(fx->fs, "/", &e, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(e[0].name, "boot.py");
    free(e);
}

static void test_symlinks_inside_are_followed(void **state)
{
    fixture *fx = *state;
    esim_boardfs_stat st;
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "real"), 0);
    write_file(in_root(fx, "real/f.txt"), "hello", 5);
    assert_int_equal(symlink("real", in_root(fx, "alias")), 0);
    assert_int_equal(symlink("real/nothing-yet", in_root(fx, "pending")), 0);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "alias/f.txt", &st), 0);
    assert_int_equal(st.size, 5);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "alias", &st), 0);
    assert_true(st.is_dir);
    assert_int_equal(esim_boardfs_resolve(fx->fs, "pending", NULL, NULL), 0);
    assert_int_equal(esim_boardfs_stat_path(fx->fs, "pending", &st), ENOENT);

    esim_boardfs_entry *e = NULL;
    size_t count = 0;
    assert_int_equal(esim_boardfs_listdir(fx->fs, "/", &e, &count), 0);
    assert_int_equal(count, 3);                  /* alias, boot.py, real */
    assert_string_equal(e[0].name, "alias");
    assert_true(e[0].is_dir);
    free(e);
}

/* ---- statvfs ---- */

static void test_statvfs_model(void **state)
{
    fixture *fx = *state;
    esim_boardfs_statvfs v;
    assert_int_equal(esim_boardfs_statvfs_get(fx->fs, &v), 0);
    assert_int_equal(v.bsize, 4096);
    assert_int_equal(v.frsize, 4096);
    assert_int_equal(v.blocks, 512);
    /* root pair 2 + boot.py (139 bytes > 128: out of line) 1 */
    assert_int_equal(v.bfree, 512 - 3);
    assert_int_equal(v.bavail, v.bfree);
    assert_int_equal(v.files, 0);
    assert_int_equal(v.ffree, 0);
    assert_int_equal(v.favail, 0);
    assert_int_equal(v.flag, 0);
    assert_int_equal(v.namemax, 255);

    write_sized(in_root(fx, "inline.bin"), 128);             /* inline: 0 */
    assert_int_equal(free_blocks(fx->fs), 509);
    write_sized(in_root(fx, "empty.bin"), 0);
    assert_int_equal(free_blocks(fx->fs), 509);
    write_sized(in_root(fx, "one.bin"), 129);                /* 1 */
    assert_int_equal(free_blocks(fx->fs), 508);
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "d"), 0);    /* 2 */
    assert_int_equal(free_blocks(fx->fs), 506);
    write_sized(in_root(fx, "d/two.bin"), 4097);             /* 2 */
    assert_int_equal(free_blocks(fx->fs), 504);
    write_sized(in_root(fx, "d/exact.bin"), 8192);           /* 2 */
    assert_int_equal(free_blocks(fx->fs), 502);
    assert_int_equal(esim_boardfs_remove(fx->fs, "d/two.bin"), 0);
    assert_int_equal(free_blocks(fx->fs), 504);
}

static void test_statvfs_capacity_edges(void **state)
{
    fixture *fx = *state;
    esim_boardfs *fs = NULL;
    esim_boardfs_statvfs v;
    assert_int_equal(esim_boardfs_open(fx->root, 5 * 4096 + 100, false, NULL, &fs), 0);
    assert_int_equal(esim_boardfs_statvfs_get(fs, &v), 0);
    assert_int_equal(v.blocks, 5);                           /* whole blocks only */
    assert_int_equal(v.bfree, 2);
    write_sized(in_root(fx, "big.bin"), 10 * 4096);          /* more than fits */
    assert_int_equal(esim_boardfs_statvfs_get(fs, &v), 0);
    assert_int_equal(v.bfree, 0);
    assert_int_equal(v.bavail, 0);
    esim_boardfs_close(fs);
    assert_int_equal(esim_boardfs_open(fx->root, 0, false, NULL, &fs), 0);
    assert_int_equal(esim_boardfs_statvfs_get(fs, &v), 0);
    assert_int_equal(v.blocks, 0);
    assert_int_equal(v.bfree, 0);
    esim_boardfs_close(fs);
}

static void test_sync(void **state)
{
    fixture *fx = *state;
    assert_int_equal(esim_boardfs_mkdir(fx->fs, "d"), 0);
    write_file(in_root(fx, "d/f"), "x", 1);
    assert_int_equal(esim_boardfs_sync(fx->fs), 0);
}

/* ---- the device ---- */

static void test_device_opens_the_filesystem(void **state)
{
    fixture *fx = *state;
    char dir[160];
    snprintf(dir, sizeof dir, "%s/board-fs", fx->tmp);
    esim_device_config cfg = {.fs_path = dir};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    esim_boardfs *fs = esim_device_fs(dev);
    assert_non_null(fs);
    assert_true(esim_device_fs_created(dev));
    esim_boardfs_statvfs v;
    assert_int_equal(esim_boardfs_statvfs_get(fs, &v), 0);
    assert_int_equal(v.blocks, 0x200000 / 4096);             /* the registered vfs */

    assert_int_equal(esim_boardfs_mkdir(fs, "lib"), 0);
    assert_int_equal(esim_boardfs_chdir(fs, "lib"), 0);
    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);
    assert_string_equal(esim_boardfs_getcwd(fs), "/");
    assert_int_equal(esim_boardfs_chdir(fs, "lib"), 0);
    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_DEEPSLEEP), ESP_OK);
    assert_string_equal(esim_boardfs_getcwd(fs), "/");
    assert_int_equal(esim_boardfs_chdir(fs, "lib"), 0);
    assert_int_equal(esim_device_power_cycle(dev), ESP_OK);
    assert_string_equal(esim_boardfs_getcwd(fs), "/");
    assert_ptr_equal(esim_device_fs(dev), fs);
    esim_device_close(dev);

    /* Opened again: the same files, not created this time. */
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    assert_false(esim_device_fs_created(dev));
    esim_boardfs_stat st;
    assert_int_equal(esim_boardfs_stat_path(esim_device_fs(dev), "/lib", &st), 0);
    esim_device_close(dev);

    /* Without fs_path there is none. */
    assert_int_equal(esim_device_open(NULL, &dev, NULL), ESP_OK);
    assert_null(esim_device_fs(dev));
    assert_false(esim_device_fs_created(dev));
    esim_device_close(dev);
}

static void test_device_capacity_from_an_explicit_partition(void **state)
{
    fixture *fx = *state;
    esim_device_config cfg = {.fs_path = fx->root,
                              .layout_csv = "nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,0x1F0000,\n"
                                            "ffat,data,fat,0x200000,0x100000,\n"};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    esim_boardfs_statvfs v;
    assert_int_equal(esim_boardfs_statvfs_get(esim_device_fs(dev), &v), 0);
    assert_int_equal(v.blocks, 0x100000 / 4096);
    esim_device_close(dev);
}

static void test_device_filesystem_errors(void **state)
{
    fixture *fx = *state;
    esim_ptable_error why = {0};
    esim_device *dev = NULL;

    /* A file where the directory should be. */
    esim_device_config cfg = {.fs_path = in_root(fx, "boot.py")};
    assert_int_equal(esim_device_open(&cfg, &dev, &why), ESP_ERR_INVALID_ARG);
    assert_null(dev);
    assert_non_null(strstr(why.message, "boot.py"));
    assert_non_null(strstr(why.message, "filesystem"));

    /* A read-only board never makes the directory. */
    char image[160], missing[160];
    snprintf(image, sizeof image, "%s/flash.bin", fx->tmp);
    snprintf(missing, sizeof missing, "%s/no-fs-here", fx->tmp);
    esim_device_config make = {.flash_path = image};
    assert_int_equal(esim_device_open(&make, &dev, NULL), ESP_OK);
    esim_device_close(dev);
    dev = NULL;
    esim_device_config ro = {.flash_path = image, .read_only = true, .fs_path = missing};
    assert_int_equal(esim_device_open(&ro, &dev, &why), ESP_ERR_NOT_FOUND);
    assert_null(dev);
    assert_non_null(strstr(why.message, "no-fs-here"));
    assert_false(host_exists(missing));
    ro.fs_path = fx->root;                                    /* an existing one is fine */
    assert_int_equal(esim_device_open(&ro, &dev, &why), ESP_OK);
    assert_false(esim_device_fs_created(dev));
    esim_device_close(dev);
    char wear[200];
    snprintf(wear, sizeof wear, "%s.wear", image);
    unlink(wear);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_writes_the_default_boot_py),
        T(test_open_existing_missing_and_bad),
        T(test_root_is_the_real_path),
        T(test_resolution_is_lexical),
        T(test_current_directory),
        T(test_name_and_path_limits),
        T(test_stat_and_its_errors),
        T(test_mtime_counts_from_2000),
        T(test_mkdir_errors),
        T(test_remove_and_rmdir_as_lfs_remove),
        T(test_rename),
        T(test_listdir_is_sorted_by_name),
        T(test_dot_dot_and_absolute_paths_stay_inside),
        T(test_symlinks_out_are_refused),
        T(test_symlinks_inside_are_followed),
        T(test_statvfs_model),
        T(test_statvfs_capacity_edges),
        T(test_sync),
        T(test_device_opens_the_filesystem),
        T(test_device_capacity_from_an_explicit_partition),
        T(test_device_filesystem_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
