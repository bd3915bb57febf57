/* libFuzzer target for the NVS engine's mount and read paths.
 *
 * The input is the image of a 3 to 8 page NVS partition (cut or padded with
 * 0xFF to whole pages). It is mounted read-only (which must not write), then
 * read-write (which runs the power-loss recovery), and every entry the
 * iterator shows is read back with the getter for its type. A mount may
 * only fail with one of the codes nvs.h documents. After a read-write mount
 * a key is written to a namespace of our own; reading it back, then and
 * after a remount, gives its value or NOT_FOUND (like ESP-IDF, the engine
 * writes over a slot whose first word is blank even if the rest is not, and
 * the CRC then rejects the entry), never another value.
 * Any broken rule aborts, so libFuzzer records the input as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/flash.h"
#include "esp32sim/nvs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FLASH_BYTES (2u * 1024u * 1024u)
#define PART_BASE 0x9000u
#define MIN_PAGES 3u
#define MAX_PAGES 8u
#define MAX_ENTRIES (MAX_PAGES * ESIM_NVS_ENTRY_COUNT)
#define MAX_VALUE (MAX_PAGES * ESIM_NVS_PAGE_SIZE)

static void die(const char *why, esp_err_t err)
{
    fprintf(stderr, "fuzz_nvs_mount: %s (%s)\n", why, esim_err_name(err));
    abort();
}

/* The codes nvs.h documents for a partition of valid geometry, and one more
 * for a read-write mount: finishing an interrupted garbage collection needs
 * a free page, and without one ESP-IDF's mount (and the engine's) gives
 * ESP_ERR_NVS_NOT_ENOUGH_SPACE. */
static bool mount_error_documented(esp_err_t err, bool read_only)
{
    return err == ESP_OK || err == ESP_ERR_NVS_NO_FREE_PAGES
           || err == ESP_ERR_NVS_NEW_VERSION_FOUND
           || (!read_only && err == ESP_ERR_NVS_NOT_ENOUGH_SPACE);
}

typedef struct {
    esim_nvs_entry_info entries[MAX_ENTRIES];
    size_t count;
} listing;

static int note_entry(const esim_nvs_entry_info *info, void *ctx)
{
    listing *l = ctx;
    if (l->count == MAX_ENTRIES)
        die("the iterator shows more entries than the partition has", ESP_OK);
    l->entries[l->count++] = *info;
    return 0;
}

static int count_namespace(const char *name, uint8_t index, void *ctx)
{
    (void)name;
    (void)index;
    ++*(size_t *)ctx;
    return 0;
}

/* A read of the size the size query gave returns that many bytes. It may
 * still fail: as in ESP-IDF, a blob's size comes from its index, and a
 * chunk with a bad data CRC is only found by the read. */
static void read_variable(const esim_nvs_handle *h, const char *key, bool str, uint8_t *buf)
{
    size_t size = 0;
    esp_err_t err = str ? esim_nvs_get_str(h, key, NULL, &size)
                        : esim_nvs_get_blob(h, key, NULL, &size);
    if (err)
        return;
    if (size > MAX_VALUE)
        die("a value larger than the partition", ESP_OK);
    size_t len = size;
    err = str ? esim_nvs_get_str(h, key, (char *)buf, &len) : esim_nvs_get_blob(h, key, buf, &len);
    if (err == ESP_ERR_NVS_INVALID_LENGTH)
        die("a read of the size the size query gave is too short", err);
    if (err)
        return;
    if (len != size)
        die("a read gave another length than the size query", ESP_OK);
    if (str && (size == 0 || buf[size - 1] != 0))
        die("a string without its NUL", ESP_OK);
}

static void read_entry(esim_nvs *nvs, const esim_nvs_entry_info *e, uint8_t *buf)
{
    esim_nvs_handle h;
    esim_nvs_type type;
    int64_t num;
    if (esim_nvs_open(nvs, e->namespace_name, false, &h) != ESP_OK)
        return;
    if (esim_nvs_find_key(&h, e->key, &type) != ESP_OK)
        return;
    if (esim_nvs_int_width(e->type))
        (void)esim_nvs_get_int(&h, e->key, e->type, &num);
    else if (e->type == ESIM_NVS_TYPE_STR)
        read_variable(&h, e->key, true, buf);
    else
        read_variable(&h, e->key, false, buf);
}

/* Lists and reads everything a mounted partition holds. The stats may fail
 * with ESP_FAIL while a FREEING page (an interrupted garbage collection) is
 * left, as ESP-IDF's do: a read-only mount keeps it, and a read-write mount
 * finishes only the first of several. */
static void walk(esim_nvs *nvs, unsigned pages)
{
    listing *l = calloc(1, sizeof *l);
    uint8_t *buf = malloc(MAX_VALUE);
    esim_nvs_stats st;
    size_t namespaces = 0;
    if (!l || !buf)
        abort();
    esp_err_t err = esim_nvs_list(nvs, NULL, ESIM_NVS_TYPE_ANY, note_entry, l);
    if (err)
        die("esim_nvs_list failed", err);
    for (size_t i = 0; i < l->count; i++)
        read_entry(nvs, &l->entries[i], buf);
    if (esim_nvs_namespaces(nvs, count_namespace, &namespaces) != ESP_OK)
        die("esim_nvs_namespaces failed", ESP_OK);
    err = esim_nvs_get_stats(nvs, &st);
    if (err && err != ESP_FAIL)
        die("esim_nvs_get_stats failed", err);
    if (!err && (st.total_entries != (size_t)pages * ESIM_NVS_ENTRY_COUNT
                 || st.used_entries + st.free_entries != st.total_entries))
        die("inconsistent stats", ESP_OK);
    free(buf);
    free(l);
}

static uint64_t writes(const esim_flash *flash)
{
    esim_flash_counters c;
    esim_flash_get_counters(flash, &c);
    return c.program_ops + c.erase_ops;
}

/* Writes fz/k = 42 unless either exists already; true if written. */
static bool write_own_key(esim_nvs *nvs)
{
    esim_nvs_handle h;
    esim_nvs_type type;
    int64_t v = 0;
    if (esim_nvs_open(nvs, "fz", false, &h) == ESP_OK)
        return false;
    esp_err_t err = esim_nvs_open(nvs, "fz", true, &h);
    if (err == ESP_ERR_NVS_NOT_ENOUGH_SPACE)
        return false;
    if (err)
        die("creating a namespace failed", err);
    if (esim_nvs_find_key(&h, "k", &type) == ESP_OK)
        return false;   /* an orphan entry already uses the new index */
    err = esim_nvs_set_int(&h, "k", ESIM_NVS_TYPE_I32, 42);
    if (err == ESP_ERR_NVS_NOT_ENOUGH_SPACE)
        return false;
    if (err)
        die("set_i32 failed", err);
    err = esim_nvs_get_int(&h, "k", ESIM_NVS_TYPE_I32, &v);
    if (err != ESP_ERR_NVS_NOT_FOUND && (err || v != 42))
        die("a key just set reads back wrong", err);
    return true;
}

static void check_own_key(esim_nvs *nvs)
{
    esim_nvs_handle h;
    int64_t v = 0;
    if (esim_nvs_open(nvs, "fz", false, &h) != ESP_OK)
        return;
    esp_err_t err = esim_nvs_get_int(&h, "k", ESIM_NVS_TYPE_I32, &v);
    if (err != ESP_ERR_NVS_NOT_FOUND && (err || v != 42))
        die("a key written before the remount reads back wrong", err);
}

static void fuzz_image(esim_flash *flash, uint32_t size)
{
    unsigned pages = size / ESIM_NVS_PAGE_SIZE;
    esim_nvs *nvs = NULL;
    uint64_t before = writes(flash);
    esp_err_t err = esim_nvs_mount(flash, PART_BASE, size, true, &nvs);
    if (!mount_error_documented(err, true))
        die("read-only mount gave an undocumented error", err);
    if (!err)
        walk(nvs, pages);
    esim_nvs_unmount(nvs);
    if (writes(flash) != before)
        die("a read-only mount wrote to flash", ESP_OK);

    err = esim_nvs_mount(flash, PART_BASE, size, false, &nvs);
    if (!mount_error_documented(err, false))
        die("read-write mount gave an undocumented error", err);
    if (err)
        return;
    walk(nvs, pages);
    bool written = write_own_key(nvs);
    esim_nvs_unmount(nvs);

    err = esim_nvs_mount(flash, PART_BASE, size, false, &nvs);
    if (err)
        die("a partition that mounted does not mount again", err);
    walk(nvs, pages);
    if (written)
        check_own_key(nvs);
    esim_nvs_unmount(nvs);

    err = esim_nvs_mount(flash, PART_BASE, size, true, &nvs);
    if (err)
        die("a recovered partition does not mount read-only", err);
    walk(nvs, pages);
    esim_nvs_unmount(nvs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pages = (size + ESIM_NVS_PAGE_SIZE - 1) / ESIM_NVS_PAGE_SIZE;
    pages = pages < MIN_PAGES ? MIN_PAGES : pages > MAX_PAGES ? MAX_PAGES : pages;
    uint32_t part = (uint32_t)(pages * ESIM_NVS_PAGE_SIZE);
    size_t used = size < part ? size : part;
    esim_flash *flash;
    if (esim_flash_open_memory(FLASH_BYTES, &flash) != ESP_OK)
        abort();
    if (esim_flash_program(flash, PART_BASE, data, used) != ESP_OK)
        abort();
    esim_flash_reset_counters(flash);
    fuzz_image(flash, part);
    esim_flash_close(flash);
    return 0;
}
