/* NVS engine speed and wear on a memory flash: the workloads W1-W6 of the
 * shared NVS benchmark (set_i32 of new keys, get_i32, overwrites, erase_key,
 * 1 KiB and 8 KiB blobs, mount of full partitions), each as operations per
 * second and flash traffic per operation from the flash counters, beside
 * what ESP-IDF's own engine writes for the same workload. Then get_i32 with
 * 50 keys against 5,000 keys (an indexed lookup costs the same), and a plain
 * hash table lookup of the same keys as a floor.
 *
 *   build/bench/bench_nvs [--rounds N]
 *   build/bench/bench_nvs --only W1|W2|W3|W4|W5a|W5b|W6-24k|W6-1m|get50|table
 *
 * --only runs one workload once, untimed, for
 * valgrind --tool=callgrind --toggle-collect=timed_<w1|w2|...> (instructions
 * inside the timed function only; scripts/bench.sh prints them per op). */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp32sim/flash.h"
#include "esp32sim/nvs.h"

#define FLASH_BYTES (4u * 1024u * 1024u)
#define BASE 0x9000u
#define KIB 1024u
#define MIB (1024u * 1024u)
#define KEYS 5000u
#define GETS 200000u
#define OVERWRITES 100000u
#define MOUNTS 20
#define NOINLINE __attribute__((noinline))

/* ---- the workloads' common parts ---- */

static int32_t v_of(uint32_t i)
{
    return (int32_t)(i * 2654435761u);
}

static uint32_t next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, esp_err_t err)
{
    fprintf(stderr, "bench_nvs: %s: %s\n", what, esim_err_name(err));
    exit(1);
}

typedef struct {
    esim_flash *flash;
    esim_nvs *nvs;
    esim_nvs_handle h;
    uint32_t size;
    char keys[KEYS][8];          /* "k00000".. */
    uint32_t order[GETS];        /* W2's key indices */
    uint32_t erase_order[KEYS];  /* W4's Fisher-Yates order */
    uint8_t *blob;
} bench;

/* A blank partition of `size`, mounted, namespace "bench" open. */
static void fresh(bench *b, uint32_t size)
{
    esim_nvs_unmount(b->nvs);
    b->nvs = NULL;
    b->size = size;
    esp_err_t err = esim_nvs_erase_partition(b->flash, BASE, size);
    if (!err)
        err = esim_nvs_mount(b->flash, BASE, size, false, &b->nvs);
    if (!err)
        err = esim_nvs_open(b->nvs, "bench", true, &b->h);
    if (err)
        die("setting up a partition", err);
}

/* ---- counters per operation ---- */

typedef struct {
    double seconds;    /* best wall time */
    uint64_t ops;
    esim_flash_counters c;   /* flash traffic of one run */
} result;

static void counters_since(const bench *b, const esim_flash_counters *c0, esim_flash_counters *d)
{
    esim_flash_counters c1;
    esim_flash_get_counters(b->flash, &c1);
    d->read_ops = c1.read_ops - c0->read_ops;
    d->bytes_read = c1.bytes_read - c0->bytes_read;
    d->program_ops = c1.program_ops - c0->program_ops;
    d->bytes_programmed = c1.bytes_programmed - c0->bytes_programmed;
    d->erase_ops = c1.erase_ops - c0->erase_ops;
    d->sectors_erased = c1.sectors_erased - c0->sectors_erased;
}

/* ---- timed parts (noinline: callgrind collects inside them by name) ---- */

NOINLINE static void timed_w1(bench *b)
{
    for (uint32_t i = 0; i < KEYS; i++) {
        esp_err_t err = esim_nvs_set_int(&b->h, b->keys[i], ESIM_NVS_TYPE_I32, v_of(i));
        if (err)
            die("W1 set_i32", err);
    }
}

NOINLINE static void timed_w2(bench *b, uint32_t keys)
{
    for (uint32_t j = 0; j < GETS; j++) {
        uint32_t i = b->order[j] % keys;
        int64_t v;
        esp_err_t err = esim_nvs_get_int(&b->h, b->keys[i], ESIM_NVS_TYPE_I32, &v);
        if (err || v != v_of(i))
            die("W2 get_i32 gave a wrong value", err);
    }
}

NOINLINE static void timed_w3(bench *b)
{
    for (uint32_t i = 1; i <= OVERWRITES; i++) {
        esp_err_t err = esim_nvs_set_int(&b->h, "ow", ESIM_NVS_TYPE_I32, (int64_t)i);
        if (err)
            die("W3 overwrite", err);
    }
}

NOINLINE static void timed_w4(bench *b)
{
    for (uint32_t j = 0; j < KEYS; j++) {
        esp_err_t err = esim_nvs_erase_key(&b->h, b->keys[b->erase_order[j]]);
        if (err)
            die("W4 erase_key", err);
    }
}

static void fill_blob(uint8_t *out, uint32_t len, uint32_t index)
{
    for (uint32_t k = 0; k < len; k++)
        out[k] = (uint8_t)(k * 31u + index * 7u + 1u);
}

NOINLINE static void timed_w5(bench *b, const char *fmt, uint32_t count, uint32_t len)
{
    char key[16];
    for (uint32_t i = 0; i < count; i++) {
        snprintf(key, sizeof key, fmt, i);
        fill_blob(b->blob, len, i);
        esp_err_t err = esim_nvs_set_blob(&b->h, key, b->blob, len);
        if (err)
            die("W5 set_blob", err);
    }
}

NOINLINE static void timed_w6(bench *b)
{
    esp_err_t err = esim_nvs_mount(b->flash, BASE, b->size, false, &b->nvs);
    if (err)
        die("W6 mount", err);
}

/* ---- the workloads, each run `rounds` times, best time kept ---- */

static void w1_setup(bench *b)
{
    fresh(b, MIB);
}

static result run_w1(bench *b, int rounds)
{
    result r = {.seconds = 1e30, .ops = KEYS};
    for (int i = 0; i < rounds; i++) {
        esim_flash_counters c0;
        w1_setup(b);
        esim_flash_get_counters(b->flash, &c0);
        double t0 = now();
        timed_w1(b);
        double t = now() - t0;
        counters_since(b, &c0, &r.c);
        r.seconds = t < r.seconds ? t : r.seconds;
    }
    return r;
}

/* get_i32 over the first `keys` keys of a W1 partition (already set). */
static result run_w2(bench *b, int rounds, uint32_t keys)
{
    result r = {.seconds = 1e30, .ops = GETS};
    for (int i = 0; i < rounds; i++) {
        esim_flash_counters c0;
        esim_flash_get_counters(b->flash, &c0);
        double t0 = now();
        timed_w2(b, keys);
        double t = now() - t0;
        counters_since(b, &c0, &r.c);
        r.seconds = t < r.seconds ? t : r.seconds;
    }
    return r;
}

static result run_w3(bench *b, int rounds)
{
    result r = {.seconds = 1e30, .ops = OVERWRITES};
    for (int i = 0; i < rounds; i++) {
        esim_flash_counters c0;
        fresh(b, 24 * KIB);
        esp_err_t err = esim_nvs_set_int(&b->h, "ow", ESIM_NVS_TYPE_I32, 0);
        if (err)
            die("W3 setup", err);
        esim_flash_get_counters(b->flash, &c0);
        double t0 = now();
        timed_w3(b);
        double t = now() - t0;
        counters_since(b, &c0, &r.c);
        r.seconds = t < r.seconds ? t : r.seconds;
    }
    return r;
}

/* W4 needs W1 (and, per the workload, W2) before each round. */
static result run_w4(bench *b, int rounds)
{
    result r = {.seconds = 1e30, .ops = KEYS};
    for (int i = 0; i < rounds; i++) {
        esim_flash_counters c0;
        w1_setup(b);
        timed_w1(b);
        esim_flash_get_counters(b->flash, &c0);
        double t0 = now();
        timed_w4(b);
        double t = now() - t0;
        counters_since(b, &c0, &r.c);
        r.seconds = t < r.seconds ? t : r.seconds;
    }
    return r;
}

static result run_w5(bench *b, int rounds, uint32_t size, const char *fmt, uint32_t count,
                     uint32_t len)
{
    result r = {.seconds = 1e30, .ops = count};
    for (int i = 0; i < rounds; i++) {
        esim_flash_counters c0;
        fresh(b, size);
        esim_flash_get_counters(b->flash, &c0);
        double t0 = now();
        timed_w5(b, fmt, count, len);
        double t = now() - t0;
        counters_since(b, &c0, &r.c);
        r.seconds = t < r.seconds ? t : r.seconds;
    }
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills a partition of `size` with W1's keys; returns how many fit. */
static uint32_t fill_partition(bench *b, uint32_t size)
{
    char key[16];
    fresh(b, size);
    for (uint32_t i = 0;; i++) {
        snprintf(key, sizeof key, "k%05" PRIu32, i);
        esp_err_t err = esim_nvs_set_int(&b->h, key, ESIM_NVS_TYPE_I32, v_of(i));
        if (err == ESP_ERR_NVS_NOT_ENOUGH_SPACE)
            return i;
        if (err)
            die("W6 fill", err);
    }
}

/* Median of MOUNTS mounts; ops = keys in the partition; counters of one. */
static result run_w6(bench *b, uint32_t size, int mounts)
{
    result r = {.ops = fill_partition(b, size)};
    double times[MOUNTS];
    for (int i = 0; i < mounts; i++) {
        esim_flash_counters c0;
        esim_nvs_unmount(b->nvs);
        b->nvs = NULL;
        esim_flash_get_counters(b->flash, &c0);
        double t0 = now();
        timed_w6(b);
        times[i] = now() - t0;
        counters_since(b, &c0, &r.c);
    }
    qsort(times, (size_t)mounts, sizeof times[0], cmp_double);
    r.seconds = times[mounts / 2];
    return r;
}

/* ---- the hash table floor: the same 5,000 keys, FNV-1a, linear probing ---- */

#define TABLE_SLOTS 8192u

typedef struct {
    const char *key[TABLE_SLOTS];
    int32_t value[TABLE_SLOTS];
} table;

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static void table_put(table *t, const char *key, int32_t v)
{
    uint32_t i = fnv1a(key) % TABLE_SLOTS;
    while (t->key[i] && strcmp(t->key[i], key) != 0)
        i = (i + 1) % TABLE_SLOTS;
    t->key[i] = key;
    t->value[i] = v;
}

static bool table_get(const table *t, const char *key, int32_t *v)
{
    for (uint32_t i = fnv1a(key) % TABLE_SLOTS; t->key[i]; i = (i + 1) % TABLE_SLOTS) {
        if (strcmp(t->key[i], key) == 0) {
            *v = t->value[i];
            return true;
        }
    }
    return false;
}

NOINLINE static void timed_table(const bench *b, const table *t)
{
    for (uint32_t j = 0; j < GETS; j++) {
        uint32_t i = b->order[j];
        int32_t v;
        if (!table_get(t, b->keys[i], &v) || v != v_of(i))
            die("hash table lookup", ESP_FAIL);
    }
}

static double run_table(const bench *b, int rounds)
{
    table *t = calloc(1, sizeof *t);
    double best = 1e30;
    if (!t)
        die("out of memory", ESP_ERR_NO_MEM);
    for (uint32_t i = 0; i < KEYS; i++)
        table_put(t, b->keys[i], v_of(i));
    for (int i = 0; i < rounds; i++) {
        double t0 = now();
        timed_table(b, t);
        double s = now() - t0;
        best = s < best ? s : best;
    }
    free(t);
    return best;
}

/* ---- printing ---- */

/* ESP-IDF v5.5.2's engine on the same workloads (shared NVS benchmark notes):
 * bytes programmed, program calls, sector erases, bytes read per operation. */
typedef struct {
    const char *id;
    double prog_bytes, prog_calls, erases, read_bytes;
} idf_figures;

static const idf_figures idf[] = {
    {"W1", 36.28, 2.016, 0, 0},     {"W2", 0, 0, 0, 64},
    {"W3", 40.32, 3.024, 0.00789, 96}, {"W4", 4.00, 1.000, 0, 64},
    {"W5a", 1122.84, 8.858, 0, 0},  {"W5b", 8478.16, 32.12, 0, 0},
};

static const idf_figures *idf_for(const char *id)
{
    for (size_t i = 0; i < sizeof idf / sizeof idf[0]; i++)
        if (strcmp(idf[i].id, id) == 0)
            return &idf[i];
    return NULL;
}

static void print_header(void)
{
    printf("%-4s %-34s %9s %10s | %9s %8s %9s %9s %8s | %s\n", "id", "workload", "ns/op",
           "ops/s", "prog B/op", "prog/op", "erase/op", "read B/op", "reads/op",
           "ESP-IDF prog B/op, prog/op, erase/op, read B/op");
}

static void print_row(const char *id, const char *what, const result *r)
{
    double n = (double)r->ops;
    const idf_figures *f = idf_for(id);
    printf("%-4s %-34s %9.0f %10.0f | %9.2f %8.3f %9.5f %9.1f %8.3f |", id, what,
           r->seconds / n * 1e9, n / r->seconds, (double)r->c.bytes_programmed / n,
           (double)r->c.program_ops / n, (double)r->c.sectors_erased / n,
           (double)r->c.bytes_read / n, (double)r->c.read_ops / n);
    if (f)
        printf(" %.2f, %.3f, %.5f, %.0f", f->prog_bytes, f->prog_calls, f->erases, f->read_bytes);
    printf("\n");
    fflush(stdout);
}

static void print_mount(const char *what, const result *r)
{
    printf("%-39s %8.2f ms median | %" PRIu64 " keys | %" PRIu64 " reads, %" PRIu64
           " bytes read, %" PRIu64 " programs per mount\n", what, r->seconds * 1e3, r->ops,
           r->c.read_ops, r->c.bytes_read, r->c.program_ops);
    fflush(stdout);
}

/* ---- main ---- */

static void setup(bench *b)
{
    uint32_t x = 2463534242u, y = 88172645u;
    if (esim_flash_open_memory(FLASH_BYTES, &b->flash) != ESP_OK)
        die("no memory flash", ESP_ERR_NO_MEM);
    b->blob = malloc(8 * KIB);
    if (!b->blob)
        die("out of memory", ESP_ERR_NO_MEM);
    for (uint32_t i = 0; i < KEYS; i++) {
        snprintf(b->keys[i], sizeof b->keys[i], "k%05" PRIu32, i);
        b->erase_order[i] = i;
    }
    for (uint32_t j = 0; j < GETS; j++)
        b->order[j] = next(&x) % KEYS;
    for (uint32_t j = KEYS - 1; j >= 1; j--) {
        uint32_t k = next(&y) % (j + 1), t = b->erase_order[j];
        b->erase_order[j] = b->erase_order[k];
        b->erase_order[k] = t;
    }
}

/* get_i32 with 50 keys present against 5,000: the same cost if indexed. */
static void scale(bench *b, int rounds)
{
    w1_setup(b);
    for (uint32_t i = 0; i < 50; i++)
        if (esim_nvs_set_int(&b->h, b->keys[i], ESIM_NVS_TYPE_I32, v_of(i)) != ESP_OK)
            die("scale setup", ESP_FAIL);
    result few = run_w2(b, rounds, 50);
    w1_setup(b);
    timed_w1(b);
    result many = run_w2(b, rounds, KEYS);
    double table_s = run_table(b, rounds);
    printf("get_i32 with 50 keys: %.0f ns, %.3f reads (%.1f B) per get\n",
           few.seconds / GETS * 1e9, (double)few.c.read_ops / GETS,
           (double)few.c.bytes_read / GETS);
    printf("get_i32 with 5,000 keys: %.0f ns, %.3f reads (%.1f B) per get; %.2fx the 50-key time\n",
           many.seconds / GETS * 1e9, (double)many.c.read_ops / GETS,
           (double)many.c.bytes_read / GETS, many.seconds / few.seconds);
    printf("hash table lookup of the same 5,000 keys (FNV-1a, no flash): %.0f ns; "
           "get_i32 is %.1fx that\n", table_s / GETS * 1e9, many.seconds / table_s);
}

static int run_only(bench *b, const char *id)
{
    if (strcmp(id, "W1") == 0) {
        w1_setup(b);
        timed_w1(b);
    } else if (strcmp(id, "W2") == 0) {
        w1_setup(b);
        timed_w1(b);
        timed_w2(b, KEYS);
    } else if (strcmp(id, "W3") == 0) {
        run_w3(b, 1);
    } else if (strcmp(id, "W4") == 0) {
        run_w4(b, 1);
    } else if (strcmp(id, "W5a") == 0) {
        run_w5(b, 1, 2 * MIB, "b%04" PRIu32, 1000, 1 * KIB);
    } else if (strcmp(id, "W5b") == 0) {
        run_w5(b, 1, MIB, "B%03" PRIu32, 100, 8 * KIB);
    } else if (strcmp(id, "W6-24k") == 0) {
        run_w6(b, 24 * KIB, 1);
    } else if (strcmp(id, "W6-1m") == 0) {
        run_w6(b, MIB, 1);
    } else if (strcmp(id, "get50") == 0) {
        w1_setup(b);
        for (uint32_t i = 0; i < 50; i++)
            if (esim_nvs_set_int(&b->h, b->keys[i], ESIM_NVS_TYPE_I32, v_of(i)) != ESP_OK)
                die("get50 setup", ESP_FAIL);
        timed_w2(b, 50);
    } else if (strcmp(id, "table") == 0) {
        run_table(b, 1);
    } else {
        fprintf(stderr, "bench_nvs: unknown workload %s\n", id);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = 5;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else
            rounds = 0;
    }
    if (rounds < 1) {
        fprintf(stderr, "usage: bench_nvs [--rounds N] [--only W1|W2|W3|W4|W5a|W5b|W6-24k|"
                        "W6-1m|get50|table]\n");
        return 2;
    }
    bench *b = calloc(1, sizeof *b);
    if (!b)
        return 1;
    setup(b);
    int status = 0;
    if (only) {
        status = run_only(b, only);
    } else {
        printf("NVS engine on a memory flash, best of %d rounds; flash traffic per operation "
               "from the flash counters\n", rounds);
        print_header();
        result r = run_w1(b, rounds);
        print_row("W1", "set_i32, 5,000 new keys, 1 MiB", &r);
        r = run_w2(b, rounds, KEYS);
        print_row("W2", "get_i32 x 200,000, 5,000 keys", &r);
        r = run_w3(b, rounds);
        print_row("W3", "set_i32 overwrite x 100,000, 24 KiB", &r);
        r = run_w4(b, rounds);
        print_row("W4", "erase_key x 5,000, shuffled", &r);
        r = run_w5(b, rounds, 2 * MIB, "b%04" PRIu32, 1000, 1 * KIB);
        print_row("W5a", "set_blob 1 KiB x 1,000, 2 MiB", &r);
        r = run_w5(b, rounds, MIB, "B%03" PRIu32, 100, 8 * KIB);
        print_row("W5b", "set_blob 8 KiB x 100, 1 MiB", &r);
        r = run_w6(b, 24 * KIB, MOUNTS);
        print_mount("W6 mount, 24 KiB full of i32 keys", &r);
        r = run_w6(b, MIB, MOUNTS);
        print_mount("W6 mount, 1 MiB full of i32 keys", &r);
        scale(b, rounds);
    }
    esim_nvs_unmount(b->nvs);
    esim_flash_close(b->flash);
    free(b->blob);
    free(b);
    return status;
}
