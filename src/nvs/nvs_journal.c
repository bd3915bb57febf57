/* esp32sim — the journal of uncommitted NVS changes (nvs_journal.h).
 *
 * A flat list of records in the order keys were first changed. Each record
 * names a key of one namespace (by its handle, the key cut to 15 bytes as
 * the engine compares it) and holds the value the key had before: that is
 * also the write that undoes the change. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/nvs_journal.h"

/* A key's content: absent, a number of an integer type, or bytes (a string
 * with its NUL, or a blob). Also used to describe the write being made. */
typedef struct {
    bool present;
    esim_nvs_type type;
    int64_t number;
    const uint8_t *bytes;
    size_t len;
} nvs_value;

typedef struct {
    esim_nvs_handle ns;
    char key[ESIM_NVS_KEY_SIZE];
    nvs_value before;
    uint8_t *owned;          /* the copy before.bytes points at, or NULL */
} journal_record;

struct esim_nvs_journal {
    journal_record *records;
    size_t count;
    size_t capacity;
};

esp_err_t esim_nvs_journal_new(esim_nvs_journal **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? ESP_OK : ESP_ERR_NO_MEM;
}

void esim_nvs_journal_clear(esim_nvs_journal *j)
{
    for (size_t i = 0; i < j->count; i++)
        free(j->records[i].owned);
    j->count = 0;
}

void esim_nvs_journal_free(esim_nvs_journal *j)
{
    if (j == NULL)
        return;
    esim_nvs_journal_clear(j);
    free(j->records);
    free(j);
}

/* ---- records ---- */

static bool same_namespace(const esim_nvs_handle *a, const esim_nvs_handle *b)
{
    return a->nvs == b->nvs && a->ns_index == b->ns_index;
}

static void cut_key(const char *key, char out[ESIM_NVS_KEY_SIZE])
{
    size_t n = 0;
    while (n < ESIM_NVS_KEY_MAX && key[n] != '\0') {
        out[n] = key[n];
        n++;
    }
    memset(out + n, 0, ESIM_NVS_KEY_SIZE - n);
}

static bool is_recorded(const esim_nvs_journal *j, const esim_nvs_handle *h, const char key[ESIM_NVS_KEY_SIZE])
{
    for (size_t i = 0; i < j->count; i++)
        if (same_namespace(&j->records[i].ns, h) && strcmp(j->records[i].key, key) == 0)
            return true;
    return false;
}

static esp_err_t reserve_one(esim_nvs_journal *j)
{
    if (j->count < j->capacity)
        return ESP_OK;
    size_t capacity = j->capacity ? j->capacity * 2 : 16;
    journal_record *grown = realloc(j->records, capacity * sizeof *grown);
    if (grown == NULL)
        return ESP_ERR_NO_MEM;
    j->records = grown;
    j->capacity = capacity;
    return ESP_OK;
}

static void drop_record(esim_nvs_journal *j, size_t i)
{
    free(j->records[i].owned);
    memmove(&j->records[i], &j->records[i + 1], (j->count - i - 1) * sizeof j->records[0]);
    j->count--;
}

/* ---- reading the old value, writing a value ---- */

static bool is_blob(esim_nvs_type type)
{
    return type == ESIM_NVS_TYPE_BLOB || type == ESIM_NVS_TYPE_BLOB_DATA || type == ESIM_NVS_TYPE_BLOB_IDX;
}

/* Copy a string or blob into rec->owned (size query, then the read). */
static esp_err_t capture_bytes(const esim_nvs_handle *h, const char *key, journal_record *rec)
{
    bool blob = rec->before.type != ESIM_NVS_TYPE_STR;
    size_t len = 0;
    esp_err_t err = blob ? esim_nvs_get_blob(h, key, NULL, &len) : esim_nvs_get_str(h, key, NULL, &len);
    if (err)
        return err;
    rec->owned = malloc(len ? len : 1);
    if (rec->owned == NULL)
        return ESP_ERR_NO_MEM;
    err = blob ? esim_nvs_get_blob(h, key, rec->owned, &len) : esim_nvs_get_str(h, key, (char *)rec->owned, &len);
    if (err) {
        free(rec->owned);
        rec->owned = NULL;
        return err;
    }
    rec->before.bytes = rec->owned;
    rec->before.len = len;
    return ESP_OK;
}

static esp_err_t capture(const esim_nvs_handle *h, const char key[ESIM_NVS_KEY_SIZE], journal_record *rec)
{
    esim_nvs_type type;
    memset(rec, 0, sizeof *rec);
    rec->ns = *h;
    memcpy(rec->key, key, ESIM_NVS_KEY_SIZE);
    esp_err_t err = esim_nvs_find_key(h, key, &type);
    if (err == ESP_ERR_NVS_NOT_FOUND)
        return ESP_OK;
    if (err)
        return err;
    rec->before.present = true;
    rec->before.type = is_blob(type) ? ESIM_NVS_TYPE_BLOB_DATA : type;
    if (type == ESIM_NVS_TYPE_STR || is_blob(type))
        return capture_bytes(h, key, rec);
    if (esim_nvs_int_width(type) == 0)
        return ESP_ERR_NVS_TYPE_MISMATCH;   /* not a value type: cannot be kept */
    return esim_nvs_get_int(h, key, type, &rec->before.number);
}

static esp_err_t write_value(const esim_nvs_handle *h, const char *key, const nvs_value *v)
{
    if (!v->present)
        return esim_nvs_erase_key(h, key);
    if (v->type == ESIM_NVS_TYPE_BLOB_DATA)
        return esim_nvs_set_blob(h, key, v->bytes, v->len);
    if (v->type == ESIM_NVS_TYPE_STR)
        return esim_nvs_set_str(h, key, (const char *)v->bytes);
    return esim_nvs_set_int(h, key, v->type, v->number);
}

/* ---- journaled writes ---- */

static esp_err_t journaled_write(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key,
                                 const nvs_value *change)
{
    char cut[ESIM_NVS_KEY_SIZE];
    journal_record rec;
    cut_key(key, cut);
    if (is_recorded(j, h, cut))
        return write_value(h, key, change);
    esp_err_t err = reserve_one(j);
    if (!err)
        err = capture(h, cut, &rec);
    if (err)
        return err;
    err = write_value(h, key, change);
    if (err) {
        free(rec.owned);
        return err;
    }
    j->records[j->count++] = rec;
    return ESP_OK;
}

esp_err_t esim_nvs_journal_set_int(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key,
                                   esim_nvs_type type, int64_t value)
{
    nvs_value change = {.present = true, .type = type, .number = value};
    if (esim_nvs_int_width(type) == 0)
        return esim_nvs_set_int(h, key, type, value);   /* the engine's own answer, nothing journaled */
    return journaled_write(j, h, key, &change);
}

esp_err_t esim_nvs_journal_set_str(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key,
                                   const char *value)
{
    nvs_value change = {.present = true, .type = ESIM_NVS_TYPE_STR, .bytes = (const uint8_t *)value};
    return journaled_write(j, h, key, &change);
}

esp_err_t esim_nvs_journal_set_blob(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key,
                                    const void *data, size_t len)
{
    nvs_value change = {.present = true, .type = ESIM_NVS_TYPE_BLOB_DATA, .bytes = data, .len = len};
    return journaled_write(j, h, key, &change);
}

esp_err_t esim_nvs_journal_erase_key(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key)
{
    nvs_value change = {.present = false};
    return journaled_write(j, h, key, &change);
}

esp_err_t esim_nvs_journal_commit(esim_nvs_journal *j, const esim_nvs_handle *h)
{
    esp_err_t err = esim_nvs_commit(h);
    if (err)
        return err;
    for (size_t i = j->count; i-- > 0;)
        if (same_namespace(&j->records[i].ns, h))
            drop_record(j, i);
    return ESP_OK;
}

/* ---- the end of a boot ---- */

size_t esim_nvs_journal_pending(const esim_nvs_journal *j, const esim_nvs_handle *h)
{
    size_t n = 0;
    for (size_t i = 0; i < j->count; i++)
        n += h == NULL || same_namespace(&j->records[i].ns, h);
    return n;
}

typedef struct {
    uint8_t index;
    char name[ESIM_NVS_KEY_SIZE];
} name_lookup;

static int match_index(const char *name, uint8_t index, void *ctx)
{
    name_lookup *look = ctx;
    if (index != look->index)
        return 0;
    cut_key(name, look->name);
    return 1;
}

static bool seen_before(const esim_nvs_journal *j, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (same_namespace(&j->records[k].ns, &j->records[i].ns))
            return true;
    return false;
}

esp_err_t esim_nvs_journal_report(const esim_nvs_journal *j, esim_nvs_journal_fn fn, void *ctx)
{
    for (size_t i = 0; i < j->count; i++) {
        const esim_nvs_handle *ns = &j->records[i].ns;
        if (seen_before(j, i))
            continue;
        name_lookup look = {.index = ns->ns_index, .name = ""};
        esp_err_t err = esim_nvs_namespaces(ns->nvs, match_index, &look);
        if (err)
            return err;
        if (fn(look.name, esim_nvs_journal_pending(j, ns), ctx))
            break;
    }
    return ESP_OK;
}

esp_err_t esim_nvs_journal_rollback(esim_nvs_journal *j)
{
    esp_err_t first = ESP_OK;
    for (size_t i = j->count; i-- > 0;) {
        const journal_record *rec = &j->records[i];
        esp_err_t err = write_value(&rec->ns, rec->key, &rec->before);
        if (err == ESP_ERR_NVS_NOT_FOUND && !rec->before.present)
            err = ESP_OK;   /* already gone */
        if (err && !first)
            first = err;
    }
    esim_nvs_journal_clear(j);
    return first;
}
