/* esp32sim — the btree engine's pieces shared between the files of src/btree.
 * Not public. Layout facts are drawn in docs/btree.md. */
#ifndef ESP32SIM_BT_INTERNAL_H
#define ESP32SIM_BT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/btree.h"

/* ---- on-disk constants ---- */
#define BT_MAGIC 0x053162u
#define BT_VERSION 3u
#define BT_META_SIZE 24u           /* magic, version, psize, free, nrecs, flags */
#define BT_META_NODUPS 0x20u
#define BT_META_RECNO 0x80u

#define BT_PG_META 0u
#define BT_PG_ROOT 1u
#define BT_PG_NONE 0u

#define BT_HDR 20u                 /* pgno, prevpg, nextpg, flags, lower, upper */
#define BT_OFF_PGNO 0u
#define BT_OFF_PREV 4u
#define BT_OFF_NEXT 8u
#define BT_OFF_FLAGS 12u
#define BT_OFF_LOWER 16u
#define BT_OFF_UPPER 18u

#define BT_P_BINTERNAL 0x01u
#define BT_P_BLEAF 0x02u
#define BT_P_OVERFLOW 0x04u
#define BT_P_TYPE 0x1fu
#define BT_P_PRESERVE 0x20u

#define BT_BIGDATA 0x01u
#define BT_BIGKEY 0x02u

#define BT_ENTRY_HDR 9u            /* leaf: ksize, dsize, flags; internal: ksize, pgno, flags */
#define BT_REF_SIZE 8u             /* an overflow reference: first page, length */
#define BT_MAX_DEPTH 50u           /* Berkeley DB's parent stack */

static inline uint32_t bt_align(uint32_t n) { return (n + 3u) & ~3u; }

static inline uint16_t bt_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t bt_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void bt_wr16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void bt_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Page header fields. */
static inline uint32_t bt_pgno(const uint8_t *pg) { return bt_rd32(pg + BT_OFF_PGNO); }
static inline uint32_t bt_prev(const uint8_t *pg) { return bt_rd32(pg + BT_OFF_PREV); }
static inline uint32_t bt_next(const uint8_t *pg) { return bt_rd32(pg + BT_OFF_NEXT); }
static inline uint32_t bt_flags(const uint8_t *pg) { return bt_rd32(pg + BT_OFF_FLAGS); }
static inline uint32_t bt_lower(const uint8_t *pg) { return bt_rd16(pg + BT_OFF_LOWER); }
static inline uint32_t bt_upper(const uint8_t *pg) { return bt_rd16(pg + BT_OFF_UPPER); }
static inline uint32_t bt_count(const uint8_t *pg) { return (bt_lower(pg) - BT_HDR) / 2u; }
static inline uint32_t bt_linp(const uint8_t *pg, uint32_t i) { return bt_rd16(pg + BT_HDR + 2u * i); }
static inline bool bt_is_leaf(const uint8_t *pg) { return (bt_flags(pg) & BT_P_TYPE) == BT_P_BLEAF; }

/* Entry sizes on the page (4-byte aligned). */
static inline uint32_t bt_leaf_size(uint32_t ksize, uint32_t dsize) { return bt_align(BT_ENTRY_HDR + ksize + dsize); }
static inline uint32_t bt_internal_size(uint32_t ksize) { return bt_align(BT_ENTRY_HDR + ksize); }

/* ---- the open database ---- */
typedef struct bt_page_slot {
    uint8_t *data;   /* NULL: not read yet */
    bool dirty;
    bool checked;    /* the layout was validated (or we wrote it) */
} bt_page_slot;

/* A step of a descent: the page and the index taken (leaf: the position). */
typedef struct bt_step {
    uint32_t pgno;
    uint32_t index;
} bt_step;

typedef struct bt_path {
    bt_step step[BT_MAX_DEPTH];
    uint32_t depth;  /* step[depth - 1] is the leaf */
} bt_path;

struct esim_btree {
    esim_btree_io io;
    uint32_t psize;
    uint32_t ovflsize;       /* a pair longer than this goes to overflow pages */
    uint32_t npages;         /* pages in the file, plus new ones */
    uint32_t file_pages;     /* pages the stream held at open */
    bt_page_slot *pages;
    uint32_t cap;
    uint32_t free_head;
    uint32_t meta_flags;
    uint32_t nrecs;
    bool modified;
    bool meta_dirty;
    bool cursor_set;
    uint8_t *cursor_key;
    size_t cursor_klen;
};

/* bt_page.c: the page cache. */
esp_err_t bt_page_get(esim_btree *t, uint32_t pgno, uint8_t **pg);
esp_err_t bt_tree_page(esim_btree *t, uint32_t pgno, uint8_t **pg);
esp_err_t bt_page_new(esim_btree *t, uint32_t type, uint32_t *pgno, uint8_t **pg);
esp_err_t bt_page_free(esim_btree *t, uint32_t pgno);
void bt_page_dirty(esim_btree *t, uint32_t pgno);
void bt_page_init(uint8_t *pg, uint32_t psize, uint32_t pgno, uint32_t type);
esp_err_t bt_page_insert(esim_btree *t, uint8_t *pg, uint32_t index, const uint8_t *entry, uint32_t len);
uint32_t bt_entry_size(const uint8_t *pg, uint32_t index);
/* The page's upper bound (65536-byte pages store an empty page's as 0). */
uint32_t bt_page_upper(const esim_btree *t, const uint8_t *pg);
void bt_page_remove(const esim_btree *t, uint8_t *pg, uint32_t index);
esp_err_t bt_cache_write(esim_btree *t);
void bt_cache_free(esim_btree *t);

/* bt_overflow.c: chains of overflow pages. */
esp_err_t bt_ovfl_put(esim_btree *t, const uint8_t *data, size_t len, uint8_t ref[BT_REF_SIZE]);
esp_err_t bt_ovfl_get(esim_btree *t, const uint8_t ref[BT_REF_SIZE], uint8_t **out, size_t *len);
esp_err_t bt_ovfl_delete(esim_btree *t, const uint8_t ref[BT_REF_SIZE]);
esp_err_t bt_ovfl_preserve(esim_btree *t, const uint8_t ref[BT_REF_SIZE]);

/* bt_search.c: keys, descents and cursor positions. */
typedef struct bt_bytes {
    const uint8_t *p;
    size_t n;
    uint8_t *owned;  /* non-NULL: free after use */
} bt_bytes;
esp_err_t bt_entry_key(esim_btree *t, const uint8_t *pg, uint32_t index, bt_bytes *key);
esp_err_t bt_entry_data(esim_btree *t, const uint8_t *pg, uint32_t index, bt_bytes *data);
void bt_bytes_release(bt_bytes *b);
esp_err_t bt_descend(esim_btree *t, const uint8_t *key, size_t klen, bt_path *path, bool *exact);
esp_err_t bt_edge(esim_btree *t, bool last, bt_path *path);
esp_err_t bt_step_leaf(esim_btree *t, bt_path *path, bool forward);

/* bt_delete.c */
esp_err_t bt_remove_leaf_entry(esim_btree *t, uint8_t *leaf, uint32_t index);
esp_err_t bt_delete_at(esim_btree *t, bt_path *path);

/* bt_split.c */
/* Insert `entry` at position `pos` of the page at `level` of `path`. */
esp_err_t bt_insert_at(esim_btree *t, bt_path *path, uint32_t level, uint32_t pos, const uint8_t *entry,
                       uint32_t len);

#endif
