/* esp32sim — a key/value database in Berkeley DB 1.85's btree file format,
 * the engine behind MicroPython's `btree` module (docs/btree.md).
 *
 * The database lives in a byte stream the caller provides through
 * esim_btree_io (a file, a memory buffer, a Python stream). Pages are kept
 * in memory once read; changes reach the stream only on esim_btree_flush()
 * and esim_btree_close(), as with Berkeley DB's sync. Files are written
 * little-endian, as an ESP32 writes them, and a board can open them; files a
 * board wrote open here.
 *
 * Keys and values are byte strings of any length (long ones go to overflow
 * pages). Keys sort byte-wise, a shorter key first when one is a prefix of
 * the other. Each key is stored once (a put replaces the value).
 *
 * Errors: ESP_ERR_NOT_FOUND (no such key, or the cursor reached the end),
 * ESP_ERR_INVALID_ARG (bad open parameters), ESP_ERR_INVALID_STATE (the file
 * is not a valid btree file: bad magic, page pointers out of range or
 * looping, broken page layout), ESP_ERR_NOT_SUPPORTED (a valid Berkeley DB
 * file of a kind this engine does not handle: big-endian, recno, duplicate
 * keys), ESP_ERR_NO_MEM, and whatever the io callbacks return. */
#ifndef ESP32SIM_BTREE_H
#define ESP32SIM_BTREE_H

#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"

/* The stream under a database. Offsets are absolute byte offsets. */
typedef struct esim_btree_io {
    /* Read up to `len` bytes at `off` into `buf`; *got is how many were read
     * (fewer only at the end of the stream). */
    esp_err_t (*read)(void *ctx, uint64_t off, void *buf, size_t len, size_t *got);
    /* Write `len` bytes at `off` (the stream grows as needed). */
    esp_err_t (*write)(void *ctx, uint64_t off, const void *buf, size_t len);
    /* The stream's current size in bytes. */
    esp_err_t (*size)(void *ctx, uint64_t *size);
    /* Push written bytes to the medium (may be NULL). */
    esp_err_t (*flush)(void *ctx);
    void *ctx;
} esim_btree_io;

/* btree.open()'s keyword arguments; 0 picks the default for each. */
typedef struct esim_btree_config {
    uint32_t flags;       /* must be 0 (duplicate keys are not supported) */
    uint32_t pagesize;    /* new databases: 512..65536, even; 0 = 4096 */
    uint32_t cachesize;   /* a hint only: every page read stays cached */
    uint32_t minkeypage;  /* 0 = 2, else >= 2: sets the overflow threshold */
} esim_btree_config;

#define ESIM_BTREE_DEFAULT_PAGESIZE 4096u
#define ESIM_BTREE_MIN_PAGESIZE 512u
#define ESIM_BTREE_MAX_PAGESIZE 65536u

typedef struct esim_btree esim_btree;

/* Open the database in `io` (copied). An empty stream makes a new database
 * (nothing is written until a change is flushed); otherwise the meta page
 * is checked. `cfg` may be NULL. */
esp_err_t esim_btree_open(const esim_btree_io *io, const esim_btree_config *cfg, esim_btree **out);

/* Write every changed page and the meta page, then the io's flush. */
esp_err_t esim_btree_flush(esim_btree *db);

/* Flush and free the database; it is freed even when the flush fails (that
 * error is returned). NULL is allowed. */
esp_err_t esim_btree_close(esim_btree *db);

/* The page size of the open database. */
uint32_t esim_btree_pagesize(const esim_btree *db);

/* The value stored under `key`, in a malloc'd buffer the caller frees
 * (*val is non-NULL even for an empty value). ESP_ERR_NOT_FOUND when absent. */
esp_err_t esim_btree_get(esim_btree *db, const void *key, size_t klen, uint8_t **val, size_t *vlen);

/* Store `val` under `key`, replacing any value it had. */
esp_err_t esim_btree_put(esim_btree *db, const void *key, size_t klen, const void *val, size_t vlen);

/* Remove `key`. ESP_ERR_NOT_FOUND when absent. */
esp_err_t esim_btree_delete(esim_btree *db, const void *key, size_t klen);

/* Cursor moves, as Berkeley DB's seq() flags. The database has one cursor;
 * it remembers the key it stands on, so changes between moves are fine (a
 * move from a deleted key goes to its neighbour). */
typedef enum {
    ESIM_BTREE_FIRST,   /* the smallest key */
    ESIM_BTREE_LAST,    /* the largest key */
    ESIM_BTREE_NEXT,    /* the key after the cursor (FIRST when none yet) */
    ESIM_BTREE_PREV,    /* the key before the cursor (LAST when none yet) */
    ESIM_BTREE_AT,      /* the smallest key >= the given key */
} esim_btree_move;

/* Move the cursor and return the pair it lands on (malloc'd copies the
 * caller frees; either pointer may be NULL to skip it). `key` is used by
 * ESIM_BTREE_AT only. ESP_ERR_NOT_FOUND when there is no such pair (the
 * cursor then stays where it was). */
esp_err_t esim_btree_seq(esim_btree *db, esim_btree_move move, const void *key, size_t klen,
                         uint8_t **k, size_t *kn, uint8_t **v, size_t *vn);

/* Berkeley DB's default key order: byte-wise, then the shorter first. */
int esim_btree_compare(const void *a, size_t alen, const void *b, size_t blen);

#endif
