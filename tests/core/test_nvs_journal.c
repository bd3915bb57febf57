/* Tests for the journal of uncommitted NVS changes: what it records, what
 * commit forgets, the report, and that rollback brings every key back to its
 * value before the first uncommitted change, on flash (checked after a
 * remount). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/nvs.h"
#include "esp32sim/nvs_journal.h"

#define NVS_BASE 0x9000u
#define NVS_SIZE 0x6000u

typedef struct {
    esim_flash *flash;
    esim_nvs *nvs;
    esim_nvs_journal *j;
    esim_nvs_handle app;
    esim_nvs_handle other;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(esim_flash_open_memory(4 * 1024 * 1024, &f->flash), ESP_OK);
    assert_int_equal(esim_nvs_mount(f->flash, NVS_BASE, NVS_SIZE, false, &f->nvs), ESP_OK);
    assert_int_equal(esim_nvs_journal_new(&f->j), ESP_OK);
    assert_int_equal(esim_nvs_open(f->nvs, "app", true, &f->app), ESP_OK);
    assert_int_equal(esim_nvs_open(f->nvs, "other", true, &f->other), ESP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    esim_nvs_journal_free(f->j);
    esim_nvs_unmount(f->nvs);
    esim_flash_close(f->flash);
    free(f);
    return 0;
}

/* Unmount and mount again: what a reboot reads back from flash. */
static void remount(fixture *f)
{
    esim_nvs_unmount(f->nvs);
    assert_int_equal(esim_nvs_mount(f->flash, NVS_BASE, NVS_SIZE, false, &f->nvs), ESP_OK);
    assert_int_equal(esim_nvs_open(f->nvs, "app", true, &f->app), ESP_OK);
    assert_int_equal(esim_nvs_open(f->nvs, "other", true, &f->other), ESP_OK);
}

static int64_t get_i32(const esim_nvs_handle *h, const char *key)
{
    int64_t v = 0;
    assert_int_equal(esim_nvs_get_int(h, key, ESIM_NVS_TYPE_I32, &v), ESP_OK);
    return v;
}

static void assert_blob(const esim_nvs_handle *h, const char *key, const void *want, size_t want_len)
{
    uint8_t *buf = malloc(want_len + 1);
    size_t len = want_len + 1;
    assert_non_null(buf);
    assert_int_equal(esim_nvs_get_blob(h, key, buf, &len), ESP_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, want_len);
    free(buf);
}

static void assert_absent(const esim_nvs_handle *h, const char *key)
{
    esim_nvs_type type;
    assert_int_equal(esim_nvs_find_key(h, key, &type), ESP_ERR_NVS_NOT_FOUND);
}

/* ---- recording ---- */

static void test_new_key_is_erased_by_rollback(void **state)
{
    fixture *f = *state;
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "count", ESIM_NVS_TYPE_I32, 7), ESP_OK);
    assert_int_equal(get_i32(&f->app, "count"), 7);                 /* written at once, as on ESP-IDF */
    assert_int_equal(esim_nvs_journal_pending(f->j, &f->app), 1);
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_OK);
    assert_int_equal(esim_nvs_journal_pending(f->j, NULL), 0);
    remount(f);
    assert_absent(&f->app, "count");
}

static void test_first_value_is_what_comes_back(void **state)
{
    fixture *f = *state;
    assert_int_equal(esim_nvs_set_int(&f->app, "count", ESIM_NVS_TYPE_I32, -5), ESP_OK);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "count", ESIM_NVS_TYPE_I32, i), ESP_OK);
    assert_int_equal(esim_nvs_journal_pending(f->j, &f->app), 1);   /* one key, changed four times */
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_OK);
    remount(f);
    assert_int_equal(get_i32(&f->app, "count"), -5);
}

static void test_type_change_and_erase_are_undone(void **state)
{
    fixture *f = *state;
    static const uint8_t cfg[] = {1, 2, 3, 0, 0xFF};
    assert_int_equal(esim_nvs_set_blob(&f->app, "cfg", cfg, sizeof cfg), ESP_OK);
    assert_int_equal(esim_nvs_set_int(&f->app, "n", ESIM_NVS_TYPE_I32, 42), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "cfg", ESIM_NVS_TYPE_I32, 9), ESP_OK);
    assert_int_equal(esim_nvs_journal_erase_key(f->j, &f->app, "n"), ESP_OK);
    assert_absent(&f->app, "n");
    assert_int_equal(esim_nvs_journal_pending(f->j, NULL), 2);
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_OK);
    remount(f);
    assert_blob(&f->app, "cfg", cfg, sizeof cfg);
    int64_t v;
    assert_int_equal(esim_nvs_get_int(&f->app, "cfg", ESIM_NVS_TYPE_I32, &v), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(get_i32(&f->app, "n"), 42);
}

static void test_multi_page_blob_comes_back(void **state)
{
    fixture *f = *state;
    uint8_t big[9000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(esim_nvs_set_blob(&f->app, "big", big, sizeof big), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_blob(f->j, &f->app, "big", "short", 5), ESP_OK);
    assert_blob(&f->app, "big", "short", 5);
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_OK);
    remount(f);
    assert_blob(&f->app, "big", big, sizeof big);
}

static void test_strings_and_other_integer_types(void **state)
{
    fixture *f = *state;
    int64_t v;
    char text[16];
    size_t len = sizeof text;
    assert_int_equal(esim_nvs_set_str(&f->app, "s", "hello"), ESP_OK);
    assert_int_equal(esim_nvs_set_int(&f->app, "u8", ESIM_NVS_TYPE_U8, 200), ESP_OK);
    assert_int_equal(esim_nvs_set_int(&f->app, "i64", ESIM_NVS_TYPE_I64, INT64_MIN + 1), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_str(f->j, &f->app, "s", "bye"), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "u8", ESIM_NVS_TYPE_U8, 1), ESP_OK);
    assert_int_equal(esim_nvs_journal_erase_key(f->j, &f->app, "i64"), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_str(f->j, &f->app, "new", "x"), ESP_OK);
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_OK);
    remount(f);
    assert_int_equal(esim_nvs_get_str(&f->app, "s", text, &len), ESP_OK);
    assert_int_equal(len, 6);
    assert_string_equal(text, "hello");
    assert_int_equal(esim_nvs_get_int(&f->app, "u8", ESIM_NVS_TYPE_U8, &v), ESP_OK);
    assert_int_equal(v, 200);
    assert_int_equal(esim_nvs_get_int(&f->app, "i64", ESIM_NVS_TYPE_I64, &v), ESP_OK);
    assert_true(v == INT64_MIN + 1);
    assert_absent(&f->app, "new");
}

static void test_failed_writes_are_not_recorded(void **state)
{
    fixture *f = *state;
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "sixteen_chars_xx", ESIM_NVS_TYPE_I32, 1),
                     ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(esim_nvs_journal_erase_key(f->j, &f->app, "missing"), ESP_ERR_NVS_NOT_FOUND);
    static uint8_t huge[20001];
    assert_int_equal(esim_nvs_journal_set_blob(f->j, &f->app, "huge", huge, sizeof huge), ESP_ERR_NVS_VALUE_TOO_LONG);
    esim_nvs_handle ro;
    assert_int_equal(esim_nvs_open(f->nvs, "app", false, &ro), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &ro, "k", ESIM_NVS_TYPE_I32, 1), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(esim_nvs_journal_pending(f->j, NULL), 0);
}

static void test_long_keys_are_recorded_by_their_first_15_bytes(void **state)
{
    fixture *f = *state;
    assert_int_equal(esim_nvs_set_int(&f->app, "fifteen_chars_x", ESIM_NVS_TYPE_I32, 11), ESP_OK);
    assert_int_equal(esim_nvs_journal_erase_key(f->j, &f->app, "fifteen_chars_x_and_more"), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "fifteen_chars_x", ESIM_NVS_TYPE_I32, 3), ESP_OK);
    assert_int_equal(esim_nvs_journal_pending(f->j, NULL), 1);
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_OK);
    remount(f);
    assert_int_equal(get_i32(&f->app, "fifteen_chars_x"), 11);
}

/* ---- commit, report, clear ---- */

static void test_commit_forgets_only_its_namespace(void **state)
{
    fixture *f = *state;
    esim_nvs_handle app2;
    assert_int_equal(esim_nvs_open(f->nvs, "app", true, &app2), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "a", ESIM_NVS_TYPE_I32, 1), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &app2, "b", ESIM_NVS_TYPE_I32, 2), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->other, "c", ESIM_NVS_TYPE_I32, 3), ESP_OK);
    assert_int_equal(esim_nvs_journal_pending(f->j, &f->app), 2);
    assert_int_equal(esim_nvs_journal_commit(f->j, &app2), ESP_OK);   /* any handle of the namespace */
    assert_int_equal(esim_nvs_journal_pending(f->j, &f->app), 0);
    assert_int_equal(esim_nvs_journal_pending(f->j, &f->other), 1);
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_OK);
    remount(f);
    assert_int_equal(get_i32(&f->app, "a"), 1);
    assert_int_equal(get_i32(&f->app, "b"), 2);
    assert_absent(&f->other, "c");
}

typedef struct {
    char names[4][16];
    size_t counts[4];
    int calls;
    int stop_after;
} report_log;

static int log_namespace(const char *ns_name, size_t changes, void *ctx)
{
    report_log *log = ctx;
    snprintf(log->names[log->calls], sizeof log->names[0], "%s", ns_name);
    log->counts[log->calls] = changes;
    log->calls++;
    return log->calls == log->stop_after;
}

static void test_report_lists_namespaces_in_order_of_first_change(void **state)
{
    fixture *f = *state;
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->other, "x", ESIM_NVS_TYPE_I32, 1), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_blob(f->j, &f->app, "y", "ab", 2), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->other, "z", ESIM_NVS_TYPE_I32, 1), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "y", ESIM_NVS_TYPE_I32, 5), ESP_OK);
    report_log log = {.stop_after = 0};
    assert_int_equal(esim_nvs_journal_report(f->j, log_namespace, &log), ESP_OK);
    assert_int_equal(log.calls, 2);
    assert_string_equal(log.names[0], "other");
    assert_int_equal(log.counts[0], 2);
    assert_string_equal(log.names[1], "app");
    assert_int_equal(log.counts[1], 1);

    report_log first = {.stop_after = 1};
    assert_int_equal(esim_nvs_journal_report(f->j, log_namespace, &first), ESP_OK);
    assert_int_equal(first.calls, 1);
}

static void test_clear_keeps_the_changes(void **state)
{
    fixture *f = *state;
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "kept", ESIM_NVS_TYPE_I32, 8), ESP_OK);
    esim_nvs_journal_clear(f->j);
    assert_int_equal(esim_nvs_journal_pending(f->j, NULL), 0);
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_OK);
    remount(f);
    assert_int_equal(get_i32(&f->app, "kept"), 8);
}

static void test_rollback_without_power_reports_and_empties(void **state)
{
    fixture *f = *state;
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "a", ESIM_NVS_TYPE_I32, 1), ESP_OK);
    assert_int_equal(esim_nvs_journal_set_int(f->j, &f->app, "b", ESIM_NVS_TYPE_I32, 2), ESP_OK);
    assert_int_equal(esim_flash_arm_cut_at_op(f->flash, 1, 0), ESP_OK);
    assert_int_equal(esim_nvs_journal_rollback(f->j), ESP_ERR_FLASH_OP_FAIL);
    assert_int_equal(esim_nvs_journal_pending(f->j, NULL), 0);
    esim_flash_power_on(f->flash);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_key_is_erased_by_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_value_is_what_comes_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_change_and_erase_are_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_page_blob_comes_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_and_other_integer_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_writes_are_not_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_keys_are_recorded_by_their_first_15_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_forgets_only_its_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_lists_namespaces_in_order_of_first_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_keeps_the_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_without_power_reports_and_empties, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
