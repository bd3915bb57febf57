/* esp32sim — the journal of uncommitted NVS changes (docs/python-nvs.md).
 *
 * ESP-IDF writes NVS values to flash when they are set; nvs_commit() does
 * nothing. Its documented contract is still that changes not committed may
 * be lost at reset. The journal makes that contract visible: every write
 * made through it remembers, for the first change of each key since its
 * namespace's last commit, what the key held before (its type and value, or
 * that it was absent). At the end of a boot the journal can say which
 * namespaces hold uncommitted changes, and can undo them through the engine.
 *
 * The journal only reads and writes through the NVS engine (nvs.h). Every
 * handle given to one journal must stay valid until the journal is cleared
 * or freed: clear it before the NVS it recorded is unmounted. */
#ifndef ESP32SIM_NVS_JOURNAL_H
#define ESP32SIM_NVS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"
#include "esp32sim/nvs.h"

typedef struct esim_nvs_journal esim_nvs_journal;

/* An empty journal. Errors: ESP_ERR_NO_MEM. */
esp_err_t esim_nvs_journal_new(esim_nvs_journal **out);
void esim_nvs_journal_free(esim_nvs_journal *j);   /* NULL is fine */

/* ---- journaled writes ----
 * The engine call of the same name, with the same arguments and results.
 * When the call succeeds and the key (its first 15 bytes) has no uncommitted
 * change in h's namespace yet, the value it held before is remembered. A
 * failed call leaves the journal as it was. Before writing, the key's old
 * value is read (blobs and strings are copied), so these calls can also
 * fail with the errors of the engine's get functions and ESP_ERR_NO_MEM;
 * then nothing is written. */
esp_err_t esim_nvs_journal_set_int(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key,
                                   esim_nvs_type type, int64_t value);
esp_err_t esim_nvs_journal_set_str(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key,
                                   const char *value);
esp_err_t esim_nvs_journal_set_blob(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key,
                                    const void *data, size_t len);
esp_err_t esim_nvs_journal_erase_key(esim_nvs_journal *j, const esim_nvs_handle *h, const char *key);

/* esim_nvs_commit, then forget every uncommitted change of h's namespace
 * (made through any handle of that namespace). */
esp_err_t esim_nvs_journal_commit(esim_nvs_journal *j, const esim_nvs_handle *h);

/* ---- the end of a boot ---- */

/* Keys with uncommitted changes in h's namespace; h NULL: in all. */
size_t esim_nvs_journal_pending(const esim_nvs_journal *j, const esim_nvs_handle *h);

/* One call per namespace with uncommitted changes, in the order of their
 * first change: the namespace's name and how many keys changed. A non-zero
 * return stops. Errors: those of esim_nvs_namespaces. */
typedef int (*esim_nvs_journal_fn)(const char *ns_name, size_t changes, void *ctx);
esp_err_t esim_nvs_journal_report(const esim_nvs_journal *j, esim_nvs_journal_fn fn, void *ctx);

/* Undo every uncommitted change, newest first: a key that held a value gets
 * it back (same type, same bytes), a key that did not exist is erased. Every
 * key is attempted; the first error is returned. The journal is empty
 * afterwards either way. */
esp_err_t esim_nvs_journal_rollback(esim_nvs_journal *j);

/* Forget every change without undoing it. */
void esim_nvs_journal_clear(esim_nvs_journal *j);

#endif
