/* esp32sim — NOR flash model (docs/flash-model.md).
 *
 * The chip is a byte array: an mmap(MAP_SHARED) of an image file, or a
 * malloc'd buffer. Program ANDs, erase sets a 4 KiB sector to 0xFF. Every
 * operation that reaches the chip is counted; file images keep their
 * counters and per-sector erase counts in a "<path>.wear" sidecar.
 * A read-only image is mapped PROT_READ from an O_RDONLY descriptor; it
 * refuses programs and erases and never writes the image or the sidecar.
 * Power cuts are injected from a seeded PRNG so a run can be replayed. */
#define _POSIX_C_SOURCE 200809L

#include "esp32sim/flash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MIB                 (1024u * 1024u)
#define WORDS_PER_SECTOR    (ESIM_FLASH_SECTOR_SIZE / ESIM_FLASH_WORD_SIZE)

#define WEAR_MAGIC          "ESWR"
#define WEAR_VERSION        1u
#define WEAR_HEADER_SIZE    60u     /* magic .. sector count */
#define WEAR_CRC_SIZE       4u

typedef enum {
    CUT_NONE,
    CUT_AT_OP,          /* cut_left = mutating ops still to go, this one included */
    CUT_AFTER_BYTES,    /* cut_left = bytes that may still be programmed */
} cut_mode;

struct esim_flash {
    uint8_t *data;
    size_t size;
    uint32_t sectors;
    char *path;                 /* NULL for a memory chip */
    bool mapped;                /* data is an mmap of the image file */
    bool read_only;             /* opened for looking: no writes, no sync */
    esim_flash_counters counters;
    uint32_t *wear;             /* erase count per sector */
    cut_mode cut;
    uint64_t cut_left;
    uint64_t rng;               /* splitmix64 state */
    bool powered;
};

/* ---- small helpers ---- */

bool esim_flash_size_supported(size_t size)
{
    return size == 2 * MIB || size == 4 * MIB || size == 8 * MIB || size == 16 * MIB;
}

static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n >= 1, without modulo bias. */
static uint64_t rng_below(uint64_t *state, uint64_t n)
{
    uint64_t floor = (0 - n) % n;    /* 2^64 mod n: values below it are rejected */
    uint64_t r;
    do {
        r = rng_next(state);
    } while (r < floor);
    return r % n;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

/* ---- the wear sidecar ---- */

static size_t wear_file_size(uint32_t sectors)
{
    return WEAR_HEADER_SIZE + 4u * (size_t)sectors + WEAR_CRC_SIZE;
}

static void wear_encode(const esim_flash *f, uint8_t *buf)
{
    const esim_flash_counters *c = &f->counters;
    size_t body = wear_file_size(f->sectors) - WEAR_CRC_SIZE;

    memcpy(buf, WEAR_MAGIC, 4);
    put_le32(buf + 4, WEAR_VERSION);
    put_le64(buf + 8, c->read_ops);
    put_le64(buf + 16, c->bytes_read);
    put_le64(buf + 24, c->program_ops);
    put_le64(buf + 32, c->bytes_programmed);
    put_le64(buf + 40, c->erase_ops);
    put_le64(buf + 48, c->sectors_erased);
    put_le32(buf + 56, f->sectors);
    for (uint32_t i = 0; i < f->sectors; i++)
        put_le32(buf + WEAR_HEADER_SIZE + 4u * i, f->wear[i]);
    put_le32(buf + body, (uint32_t)crc32(0L, buf, (uInt)body));
}

/* True if buf (wear_file_size(f->sectors) bytes) is a valid sidecar for f. */
static bool wear_valid(const esim_flash *f, const uint8_t *buf)
{
    size_t body = wear_file_size(f->sectors) - WEAR_CRC_SIZE;

    if (memcmp(buf, WEAR_MAGIC, 4) != 0 || get_le32(buf + 4) != WEAR_VERSION)
        return false;
    if (get_le32(buf + 56) != f->sectors)
        return false;
    return get_le32(buf + body) == (uint32_t)crc32(0L, buf, (uInt)body);
}

static void wear_decode(esim_flash *f, const uint8_t *buf)
{
    esim_flash_counters *c = &f->counters;

    c->read_ops = get_le64(buf + 8);
    c->bytes_read = get_le64(buf + 16);
    c->program_ops = get_le64(buf + 24);
    c->bytes_programmed = get_le64(buf + 32);
    c->erase_ops = get_le64(buf + 40);
    c->sectors_erased = get_le64(buf + 48);
    for (uint32_t i = 0; i < f->sectors; i++)
        f->wear[i] = get_le32(buf + WEAR_HEADER_SIZE + 4u * i);
}

/* Reads exactly `len` bytes; false on a short file or an error. */
static bool read_exact(int fd, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

static bool write_exact(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Loads the sidecar if it is present and valid; otherwise leaves the
 * counters at zero. Never fails: a bad sidecar only loses statistics. */
static void wear_load(esim_flash *f, const char *wear_path)
{
    size_t len = wear_file_size(f->sectors);
    struct stat st;
    uint8_t *buf;
    int fd = open(wear_path, O_RDONLY);

    if (fd < 0)
        return;
    buf = malloc(len);
    if (buf && fstat(fd, &st) == 0 && (size_t)st.st_size == len
            && read_exact(fd, buf, len) && wear_valid(f, buf))
        wear_decode(f, buf);
    free(buf);
    close(fd);
}

/* Writes "<wear_path>.tmp", then renames it over the sidecar, so a crash
 * leaves either the old sidecar or the new one, never half of one. */
static esp_err_t wear_store(const esim_flash *f, const char *wear_path)
{
    size_t len = wear_file_size(f->sectors);
    char *tmp = join_path(wear_path, ".tmp");
    uint8_t *buf = malloc(len);
    esp_err_t err = ESP_ERR_NO_MEM;

    if (tmp && buf) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        wear_encode(f, buf);
        err = ESP_FAIL;
        if (fd >= 0) {
            bool ok = write_exact(fd, buf, len) && fsync(fd) == 0;
            ok = (close(fd) == 0) && ok;
            if (ok && rename(tmp, wear_path) == 0)
                err = ESP_OK;
            else
                unlink(tmp);
        }
    }
    free(buf);
    free(tmp);
    return err;
}

/* ---- opening and closing ---- */

static esp_err_t flash_alloc(size_t size, esim_flash **out)
{
    esim_flash *f;

    if (!esim_flash_size_supported(size))
        return ESP_ERR_INVALID_SIZE;
    f = calloc(1, sizeof *f);
    if (!f)
        return ESP_ERR_NO_MEM;
    f->size = size;
    f->sectors = (uint32_t)(size / ESIM_FLASH_SECTOR_SIZE);
    f->wear = calloc(f->sectors, sizeof *f->wear);
    f->powered = true;
    if (!f->wear) {
        free(f);
        return ESP_ERR_NO_MEM;
    }
    *out = f;
    return ESP_OK;
}

/* Frees the structure and unmaps the image, without syncing anything. */
static void flash_free(esim_flash *f)
{
    if (f->mapped)
        munmap(f->data, f->size);
    else
        free(f->data);
    free(f->wear);
    free(f->path);
    free(f);
}

esp_err_t esim_flash_open_memory(size_t size, esim_flash **out)
{
    esim_flash *f;
    esp_err_t err;

    if (!out)
        return ESP_ERR_INVALID_ARG;
    *out = NULL;
    err = flash_alloc(size, &f);
    if (err)
        return err;
    f->data = malloc(size);
    if (!f->data) {
        flash_free(f);
        return ESP_ERR_NO_MEM;
    }
    memset(f->data, 0xFF, size);
    *out = f;
    return ESP_OK;
}

/* Checks the size of an open existing image. On success *size holds the
 * image's size. */
static esp_err_t open_existing(int fd, size_t *size)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return ESP_FAIL;
    if (!S_ISREG(st.st_mode) || st.st_size < 0)
        return ESP_ERR_INVALID_SIZE;
    if (!esim_flash_size_supported((size_t)st.st_size))
        return ESP_ERR_INVALID_SIZE;
    if (*size != 0 && *size != (size_t)st.st_size)
        return ESP_ERR_INVALID_SIZE;
    *size = (size_t)st.st_size;
    return ESP_OK;
}

/* Maps the image (read-only when f->read_only) and, for a new one, fills
 * it with 0xFF. */
static esp_err_t map_image(esim_flash *f, int fd, bool fresh)
{
    int prot = f->read_only ? PROT_READ : PROT_READ | PROT_WRITE;
    void *p;

    if (fresh && ftruncate(fd, (off_t)f->size) != 0)
        return ESP_FAIL;
    p = mmap(NULL, f->size, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return ESP_FAIL;
    f->data = p;
    f->mapped = true;
    if (fresh)
        memset(f->data, 0xFF, f->size);
    return ESP_OK;
}

/* Opens the file, creating it (O_EXCL) only if it is missing and allowed.
 * *fresh tells whether it was created here. Returns -1 with *err set. */
static int open_image_fd(const char *path, size_t size, bool create,
                         bool *fresh, esp_err_t *err)
{
    int fd = open(path, O_RDWR);

    *fresh = false;
    if (fd >= 0 || errno != ENOENT) {
        *err = fd >= 0 ? ESP_OK : ESP_FAIL;
        return fd;
    }
    if (!create) {
        *err = ESP_ERR_NOT_FOUND;
        return -1;
    }
    if (!esim_flash_size_supported(size)) {
        *err = ESP_ERR_INVALID_SIZE;
        return -1;
    }
    fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
    *fresh = fd >= 0;
    *err = fd >= 0 ? ESP_OK : ESP_FAIL;
    return fd;
}

/* Everything after the file is open: size check, allocation, mapping and
 * the sidecar. A fresh image starts with zero counters, whatever sidecar
 * an older image may have left behind. */
static esp_err_t open_image(const char *path, int fd, size_t size, bool fresh,
                            bool read_only, esim_flash **out)
{
    esim_flash *f;
    char *wear_path;
    esp_err_t err = fresh ? ESP_OK : open_existing(fd, &size);

    if (!err)
        err = flash_alloc(size, &f);
    if (err)
        return err;
    f->read_only = read_only;
    f->path = join_path(path, "");
    wear_path = join_path(path, ".wear");
    err = (f->path && wear_path) ? map_image(f, fd, fresh) : ESP_ERR_NO_MEM;
    if (!err && fresh)
        unlink(wear_path);      /* a sidecar left by an older image */
    else if (!err)
        wear_load(f, wear_path);
    free(wear_path);
    if (err) {
        flash_free(f);
        return err;
    }
    *out = f;
    return ESP_OK;
}

esp_err_t esim_flash_open_file(const char *path, size_t size, bool create, esim_flash **out)
{
    bool fresh;
    esp_err_t err;
    int fd;

    if (!path || !out)
        return ESP_ERR_INVALID_ARG;
    *out = NULL;
    fd = open_image_fd(path, size, create, &fresh, &err);
    if (fd < 0)
        return err;
    err = open_image(path, fd, size, fresh, false, out);
    close(fd);      /* the mapping keeps the file */
    if (err && fresh)
        unlink(path);
    return err;
}

esp_err_t esim_flash_open_file_readonly(const char *path, size_t size, esim_flash **out)
{
    esp_err_t err;
    int fd;

    if (!path || !out)
        return ESP_ERR_INVALID_ARG;
    *out = NULL;
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return errno == ENOENT ? ESP_ERR_NOT_FOUND : ESP_FAIL;
    err = open_image(path, fd, size, false, true, out);
    close(fd);      /* the mapping keeps the file */
    return err;
}

bool esim_flash_read_only(const esim_flash *flash)
{
    return flash && flash->read_only;
}

esp_err_t esim_flash_sync(esim_flash *flash)
{
    char *wear_path;
    esp_err_t err;

    if (!flash)
        return ESP_ERR_INVALID_ARG;
    if (!flash->mapped || flash->read_only)
        return ESP_OK;
    if (msync(flash->data, flash->size, MS_SYNC) != 0)
        return ESP_FAIL;
    wear_path = join_path(flash->path, ".wear");
    if (!wear_path)
        return ESP_ERR_NO_MEM;
    err = wear_store(flash, wear_path);
    free(wear_path);
    return err;
}

void esim_flash_close(esim_flash *flash)
{
    if (!flash)
        return;
    esim_flash_sync(flash);
    flash_free(flash);
}

size_t esim_flash_size(const esim_flash *flash)
{
    return flash ? flash->size : 0;
}

const char *esim_flash_path(const esim_flash *flash)
{
    return flash ? flash->path : NULL;
}

const uint8_t *esim_flash_peek(const esim_flash *flash)
{
    return flash ? flash->data : NULL;
}

/* ---- power ---- */

static void cut_power(esim_flash *f)
{
    f->powered = false;
    f->cut = CUT_NONE;
    f->cut_left = 0;
}

/* In op mode, counts one mutating operation and tells whether the power
 * fails during it. */
static bool op_is_cut(esim_flash *f)
{
    if (f->cut != CUT_AT_OP)
        return false;
    return --f->cut_left == 0;
}

static esp_err_t arm(esim_flash *f, cut_mode mode, uint64_t n, uint64_t seed)
{
    if (!f)
        return ESP_ERR_INVALID_ARG;
    if (!f->powered)
        return ESP_ERR_INVALID_STATE;
    f->cut = mode;
    f->cut_left = n;
    f->rng = seed;
    return ESP_OK;
}

esp_err_t esim_flash_arm_cut_at_op(esim_flash *flash, uint64_t nth_op, uint64_t seed)
{
    if (nth_op == 0)
        return ESP_ERR_INVALID_ARG;
    return arm(flash, CUT_AT_OP, nth_op, seed);
}

esp_err_t esim_flash_arm_cut_after_bytes(esim_flash *flash, uint64_t bytes, uint64_t seed)
{
    esp_err_t err = arm(flash, CUT_AFTER_BYTES, bytes, seed);
    if (!err && bytes == 0)
        cut_power(flash);   /* the limit is already reached */
    return err;
}

void esim_flash_disarm_cut(esim_flash *flash)
{
    if (!flash)
        return;
    flash->cut = CUT_NONE;
    flash->cut_left = 0;
}

bool esim_flash_cut_armed(const esim_flash *flash)
{
    return flash && flash->cut != CUT_NONE;
}

bool esim_flash_powered(const esim_flash *flash)
{
    return flash && flash->powered;
}

void esim_flash_power_on(esim_flash *flash)
{
    if (!flash)
        return;
    esim_flash_disarm_cut(flash);
    flash->powered = true;
}

/* ---- operations ---- */

/* addr + len must lie within the chip; written so it cannot overflow. */
static esp_err_t check_range(const esim_flash *f, uint32_t addr, size_t len)
{
    if (!f)
        return ESP_ERR_INVALID_ARG;
    if (len > f->size || addr > f->size - len)
        return ESP_ERR_INVALID_ARG;
    return ESP_OK;
}

static esp_err_t check_power(const esim_flash *f)
{
    return f->powered ? ESP_OK : ESP_ERR_FLASH_OP_FAIL;
}

/* A mutating operation may go ahead: the chip is writable and powered. */
static esp_err_t check_writable(const esim_flash *f)
{
    if (f->read_only)
        return ESP_ERR_NOT_ALLOWED;
    return check_power(f);
}

esp_err_t esim_flash_read(esim_flash *flash, uint32_t addr, void *buf, size_t len)
{
    esp_err_t err = check_range(flash, addr, len);
    if (err)
        return err;
    if (!buf && len > 0)
        return ESP_ERR_INVALID_ARG;
    err = check_power(flash);
    if (err || len == 0)
        return err;
    memcpy(buf, flash->data + addr, len);
    flash->counters.read_ops++;
    flash->counters.bytes_read += len;
    return ESP_OK;
}

/* NOR programming: bits can only go from 1 to 0. */
static void and_bytes(esim_flash *f, uint32_t addr, const uint8_t *src, size_t len)
{
    uint8_t *dst = f->data + addr;
    for (size_t i = 0; i < len; i++)
        dst[i] &= src[i];
}

/* Programs the first `done` of `len` bytes and counts the operation. */
static esp_err_t program_part(esim_flash *f, uint32_t addr, const uint8_t *src,
                              size_t len, size_t done)
{
    and_bytes(f, addr, src, done);
    f->counters.program_ops++;
    f->counters.bytes_programmed += done;
    return done == len ? ESP_OK : ESP_ERR_FLASH_OP_FAIL;
}

/* Bytes a torn program leaves: k whole words of the words it touches
 * (words aligned to flash addresses), k uniform in [0, words - 1]. */
static size_t torn_prefix(esim_flash *f, uint32_t addr, size_t len)
{
    uint64_t first = addr / ESIM_FLASH_WORD_SIZE;
    uint64_t last = ((uint64_t)addr + len - 1) / ESIM_FLASH_WORD_SIZE;
    uint64_t k = rng_below(&f->rng, last - first + 1);
    uint64_t end = (first + k) * ESIM_FLASH_WORD_SIZE;

    return end > addr ? (size_t)(end - addr) : 0;
}

/* Byte mode: programs up to the budget; the power goes once it is spent. */
static esp_err_t program_budgeted(esim_flash *f, uint32_t addr, const uint8_t *src, size_t len)
{
    size_t done = f->cut_left < len ? (size_t)f->cut_left : len;

    f->cut_left -= done;
    if (f->cut_left == 0)
        cut_power(f);
    return program_part(f, addr, src, len, done);
}

esp_err_t esim_flash_program(esim_flash *flash, uint32_t addr, const void *buf, size_t len)
{
    esp_err_t err = check_range(flash, addr, len);
    if (err)
        return err;
    if (!buf && len > 0)
        return ESP_ERR_INVALID_ARG;
    err = check_writable(flash);
    if (err || len == 0)
        return err;
    if (op_is_cut(flash)) {
        size_t done = torn_prefix(flash, addr, len);
        cut_power(flash);
        return program_part(flash, addr, buf, len, done);
    }
    if (flash->cut == CUT_AFTER_BYTES)
        return program_budgeted(flash, addr, buf, len);
    return program_part(flash, addr, buf, len, len);
}

/* A torn erase: a prefix of k words erased, word k with random bits set. */
static void erase_torn(esim_flash *f, uint8_t *sector)
{
    uint64_t k = rng_below(&f->rng, WORDS_PER_SECTOR);
    uint32_t bits = (uint32_t)rng_next(&f->rng);
    uint8_t *word = sector + k * ESIM_FLASH_WORD_SIZE;

    memset(sector, 0xFF, (size_t)k * ESIM_FLASH_WORD_SIZE);
    for (uint32_t i = 0; i < ESIM_FLASH_WORD_SIZE; i++)
        word[i] |= (uint8_t)(bits >> (8 * i));
}

/* Erases one sector (power already checked), or tears it if the cut is due. */
static esp_err_t erase_one(esim_flash *f, uint32_t index)
{
    uint8_t *sector = f->data + (size_t)index * ESIM_FLASH_SECTOR_SIZE;

    f->counters.erase_ops++;
    if (op_is_cut(f)) {
        erase_torn(f, sector);
        cut_power(f);
        return ESP_ERR_FLASH_OP_FAIL;
    }
    memset(sector, 0xFF, ESIM_FLASH_SECTOR_SIZE);
    f->counters.sectors_erased++;
    if (f->wear[index] < UINT32_MAX)
        f->wear[index]++;
    return ESP_OK;
}

esp_err_t esim_flash_erase_sector(esim_flash *flash, uint32_t sector_index)
{
    if (!flash || sector_index >= flash->sectors)
        return ESP_ERR_INVALID_ARG;
    esp_err_t err = check_writable(flash);
    if (err)
        return err;
    return erase_one(flash, sector_index);
}

esp_err_t esim_flash_erase_range(esim_flash *flash, uint32_t addr, size_t len)
{
    esp_err_t err = check_range(flash, addr, len);
    if (err)
        return err;
    if (addr % ESIM_FLASH_SECTOR_SIZE || len % ESIM_FLASH_SECTOR_SIZE)
        return ESP_ERR_INVALID_ARG;
    err = check_writable(flash);
    uint32_t first = addr / ESIM_FLASH_SECTOR_SIZE;
    uint32_t count = (uint32_t)(len / ESIM_FLASH_SECTOR_SIZE);
    for (uint32_t i = 0; !err && i < count; i++)
        err = erase_one(flash, first + i);
    return err;
}

/* ---- counters ---- */

void esim_flash_get_counters(const esim_flash *flash, esim_flash_counters *out)
{
    if (!out)
        return;
    if (!flash) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = flash->counters;
}

void esim_flash_reset_counters(esim_flash *flash)
{
    if (!flash)
        return;
    memset(&flash->counters, 0, sizeof flash->counters);
    memset(flash->wear, 0, (size_t)flash->sectors * sizeof *flash->wear);
}

uint32_t esim_flash_sector_count(const esim_flash *flash)
{
    return flash ? flash->sectors : 0;
}

uint32_t esim_flash_sector_erase_count(const esim_flash *flash, uint32_t sector_index)
{
    if (!flash || sector_index >= flash->sectors)
        return 0;
    return flash->wear[sector_index];
}
