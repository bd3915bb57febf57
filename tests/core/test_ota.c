/* Tests for otadata's write side (esp_ota_ops) and the simulated
 * second-stage bootloader with app rollback, against ESP-IDF's vectors
 * (tests/fixtures/ota, reference/espidf-formats.md §B). */
#define _XOPEN_SOURCE 700   /* mkstemp */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp32sim/appimage.h"
#include "esp32sim/ota.h"
#include "esp32sim/partition.h"
#include "fixtures.h"

#define OTADATA_SIZE 0x2000u

/* factory + otadata + three OTA slots (no factory when `factory` is false). */
static const char csv_three_slots[] =
    "nvs,      data, nvs,     0x9000,  0x4000,\n"
    "otadata,  data, ota,     0xd000,  0x2000,\n"
    "phy_init, data, phy,     0xf000,  0x1000,\n"
    "ota_0,    app,  ota_0,   0x10000, 0x40000,\n"
    "ota_1,    app,  ota_1,   0x50000, 0x40000,\n"
    "ota_2,    app,  ota_2,   0x90000, 0x40000,\n";

static const char csv_factory_ota[] =
    "nvs,      data, nvs,     0x9000,  0x4000,\n"
    "otadata,  data, ota,     0xd000,  0x2000,\n"
    "phy_init, data, phy,     0xf000,  0x1000,\n"
    "factory,  app,  factory, 0x10000, 0x40000,\n"
    "ota_0,    app,  ota_0,   0x50000, 0x40000,\n"
    "ota_1,    app,  ota_1,   0x90000, 0x40000,\n";

static const char csv_gap[] =
    "otadata,  data, ota,     0xd000,  0x2000,\n"
    "ota_0,    app,  ota_0,   0x10000, 0x40000,\n"
    "ota_2,    app,  ota_2,   0x50000, 0x40000,\n";

/* A board whose app partitions and otadata are blank (fixture_blank_apps),
 * the starting point of ESP-IDF's vectors. */
static esim_device *open_board(const char *layout, const char *csv, bool no_rollback)
{
    esim_device_config cfg = {.layout = layout, .layout_csv = csv, .no_rollback = no_rollback};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    fixture_blank_apps(dev);
    return dev;
}

static esim_partition part_named(esim_device *dev, const char *label)
{
    esim_partition p;
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_ANY, ESIM_PART_SUBTYPE_ANY, label, &p));
    return p;
}

static void put_image(esim_device *dev, const char *label, const char *version)
{
    fixture_put_image(dev, label, version);
}

/* Clear the first byte of the project name: the SHA-256 no longer matches. */
static void damage_image(esim_device *dev, const char *label)
{
    esim_partition p = part_named(dev, label);
    const uint8_t zero = 0;
    assert_int_equal(esim_partition_write(dev, &p, ESIM_APP_DESC_OFFSET + 48, &zero, 1), ESP_OK);
}

static void read_otadata(esim_device *dev, uint8_t out[OTADATA_SIZE])
{
    esim_partition p = part_named(dev, "otadata");
    assert_int_equal(esim_partition_read(dev, &p, 0, out, OTADATA_SIZE), ESP_OK);
}

static void write_otadata(esim_device *dev, const uint8_t in[OTADATA_SIZE])
{
    esim_partition p = part_named(dev, "otadata");
    assert_int_equal(esim_partition_erase_range(dev, &p, 0, OTADATA_SIZE), ESP_OK);
    assert_int_equal(esim_partition_write(dev, &p, 0, in, OTADATA_SIZE), ESP_OK);
}

static void load_vector(const char *name, uint8_t out[OTADATA_SIZE])
{
    char path[512];
    snprintf(path, sizeof path, "%s/ota/%s", ESIM_FIXTURES_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(out, 1, OTADATA_SIZE, f), OTADATA_SIZE);
    fclose(f);
}

static void assert_otadata_is(esim_device *dev, const char *vector)
{
    uint8_t want[OTADATA_SIZE], got[OTADATA_SIZE];
    load_vector(vector, want);
    read_otadata(dev, got);
    assert_memory_equal(got, want, OTADATA_SIZE);
}

static void set_boot(esim_device *dev, const char *label, esp_err_t expected)
{
    esim_partition p = part_named(dev, label);
    assert_int_equal(esim_ota_set_boot_partition(dev, &p), expected);
}

static void assert_running(esim_device *dev, const char *label)
{
    esim_partition p;
    assert_true(esim_ota_running_partition(dev, &p));
    assert_string_equal(p.label, label);
}

static void assert_boot(esim_device *dev, const char *label)
{
    esim_partition p;
    assert_true(esim_ota_boot_partition(dev, &p));
    assert_string_equal(p.label, label);
}

static esim_ota_entry entry(esim_device *dev, int i)
{
    esim_ota_entry e[2];
    assert_true(esim_ota_read_entries(dev, e));
    return e[i];
}

static bool events_mention(esim_device *dev, const char *words)
{
    const esim_boot_event *ev;
    size_t n = esim_device_boot_events(dev, &ev);
    for (size_t i = 0; i < n; i++)
        if (strstr(ev[i].message, words) != NULL)
            return true;
    return false;
}

static void reset(esim_device *dev, esim_reset_reason why)
{
    assert_int_equal(esim_device_hard_reset(dev, why), ESP_OK);
}

/* ---- vectors ---- */

static void test_switch_sequence_matches_otatool(void **state)
{
    (void)state;
    /* without rollback the state stays UNDEFINED (0xFFFFFFFF), as otatool writes it */
    esim_device *dev = open_board("ota", NULL, true);
    put_image(dev, "ota_0", "1");
    put_image(dev, "ota_1", "2");
    assert_otadata_is(dev, "otadata_00_blank.bin");
    set_boot(dev, "ota_1", ESP_OK);
    assert_otadata_is(dev, "otadata_01_after_switch_slot1.bin");
    set_boot(dev, "ota_0", ESP_OK);
    assert_otadata_is(dev, "otadata_02_after_switch_slot0.bin");
    set_boot(dev, "ota_1", ESP_OK);
    assert_otadata_is(dev, "otadata_03_after_switch_slot1.bin");
    /* ota_1 again: the other copy gets the same seq 4 */
    set_boot(dev, "ota_1", ESP_OK);
    assert_int_equal(entry(dev, 0).ota_seq, 4);
    assert_int_equal(entry(dev, 1).ota_seq, 4);
    set_boot(dev, "ota_0", ESP_OK);
    assert_int_equal(entry(dev, 1).ota_seq, 5);
    assert_boot(dev, "ota_0");
    esim_device_close(dev);
}

static void test_rollback_vectors(void **state)
{
    (void)state;
    esim_device *dev = open_board("ota", NULL, false);
    put_image(dev, "ota_0", "1");
    set_boot(dev, "ota_0", ESP_OK);
    assert_otadata_is(dev, "rb_01_setboot_ota0_from_blank_NEW.bin");
    reset(dev, ESIM_RST_SW);
    assert_otadata_is(dev, "rb_02_bootloader_marked_PENDING_VERIFY.bin");
    assert_running(dev, "ota_0");
    assert_true(events_mention(dev, "NEW -> PENDING_VERIFY"));
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_OK);
    assert_otadata_is(dev, "rb_03_app_marked_VALID.bin");
    /* already VALID: nothing is written */
    esim_flash_counters before, after;
    esim_flash_get_counters(esim_device_flash(dev), &before);
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_OK);
    esim_flash_get_counters(esim_device_flash(dev), &after);
    assert_int_equal(after.erase_ops, before.erase_ops);
    assert_int_equal(after.program_ops, before.program_ops);
    esim_device_close(dev);
}

static void test_sequence_numbers_with_16_slots(void **state)
{
    (void)state;
    char csv[2048] = "otadata, data, ota, 0xd000, 0x2000,\n";
    for (int i = 0; i < 16; i++) {
        char row[96];
        snprintf(row, sizeof row, "ota_%d, app, ota_%d, 0x%x, 0x20000,\n", i, i, 0x10000 + i * 0x20000);
        strcat(csv, row);
    }
    esim_device *dev = open_board(NULL, csv, false);
    static const char *const steps[] = {"ota_15", "ota_3", "ota_0", "ota_15"};
    static const uint32_t seqs[] = {16, 20, 33, 48};
    static const int copies[] = {0, 1, 0, 1};
    for (int i = 0; i < 4; i++) {
        put_image(dev, steps[i], "v");
        set_boot(dev, steps[i], ESP_OK);
        esim_ota_entry e = entry(dev, copies[i]);
        assert_int_equal(e.ota_seq, seqs[i]);
        assert_int_equal(e.crc, esim_ota_seq_crc(seqs[i]));
        assert_int_equal(e.ota_state, ESIM_OTA_STATE_NEW);
        assert_boot(dev, steps[i]);
    }
    esim_device_close(dev);
}

/* ---- the rollback timeline ---- */

static void test_rollback_timeline(void **state)
{
    (void)state;
    esim_device *dev = open_board("ota", NULL, false);
    put_image(dev, "ota_0", "1");
    put_image(dev, "ota_1", "2");
    set_boot(dev, "ota_0", ESP_OK);
    reset(dev, ESIM_RST_SW);
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_OK);
    /* the update: ota_1 chosen, still running ota_0 */
    set_boot(dev, "ota_1", ESP_OK);
    assert_int_equal(entry(dev, 1).ota_seq, 2);
    assert_int_equal(entry(dev, 1).ota_state, ESIM_OTA_STATE_NEW);
    assert_running(dev, "ota_0");
    assert_boot(dev, "ota_1");
    /* first boot of the new app */
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_1");
    assert_int_equal(entry(dev, 1).ota_state, ESIM_OTA_STATE_PENDING_VERIFY);
    /* it resets without confirming: abandoned, ota_0 boots again */
    reset(dev, ESIM_RST_PANIC);
    assert_int_equal(entry(dev, 1).ota_state, ESIM_OTA_STATE_ABORTED);
    assert_int_equal(entry(dev, 0).ota_state, ESIM_OTA_STATE_VALID);
    assert_running(dev, "ota_0");
    assert_boot(dev, "ota_0");
    assert_true(events_mention(dev, "PENDING_VERIFY -> ABORTED"));
    /* second try, confirmed this time: VALID survives resets */
    set_boot(dev, "ota_1", ESP_OK);
    assert_int_equal(entry(dev, 1).ota_seq, 2);
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_1");
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(esim_device_power_cycle(dev), ESP_OK);
        assert_running(dev, "ota_1");
        assert_int_equal(entry(dev, 1).ota_state, ESIM_OTA_STATE_VALID);
    }
    esim_device_close(dev);
}

static void test_factory_fallback(void **state)
{
    (void)state;
    esim_device *dev = open_board(NULL, csv_factory_ota, false);
    put_image(dev, "factory", "f");
    put_image(dev, "ota_0", "1");
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "factory");
    assert_false(events_mention(dev, "unverified"));
    set_boot(dev, "ota_0", ESP_OK);
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_0");
    /* unconfirmed: back to factory (otadata has no valid entry left) */
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "factory");
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_FAIL);
    /* set_boot(factory) erases otadata */
    set_boot(dev, "ota_0", ESP_OK);
    set_boot(dev, "factory", ESP_OK);
    assert_otadata_is(dev, "otadata_00_blank.bin");
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "factory");
    /* ota_0 selected but damaged: down to factory */
    set_boot(dev, "ota_0", ESP_OK);
    damage_image(dev, "ota_0");
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "factory");
    const esim_boot_event *ev;
    size_t n = esim_device_boot_events(dev, &ev);
    bool refused = false;
    for (size_t i = 0; i < n; i++)
        if (ev[i].kind == ESIM_BOOT_EV_NOT_BOOTABLE && strcmp(ev[i].label, "ota_0") == 0) {
            assert_string_equal(ev[i].failed_check, "checksum");
            refused = true;
        }
    assert_true(refused);
    assert_int_equal(ev[n - 1].kind, ESIM_BOOT_EV_LOADED);
    assert_string_equal(ev[n - 1].label, "factory");
    esim_device_close(dev);
}

static void test_bad_images_are_skipped_down_then_up(void **state)
{
    (void)state;
    esim_device *dev = open_board(NULL, csv_three_slots, false);
    put_image(dev, "ota_0", "0");
    put_image(dev, "ota_1", "1");
    put_image(dev, "ota_2", "2");
    set_boot(dev, "ota_1", ESP_OK);
    damage_image(dev, "ota_1");
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_0");                 /* down */
    damage_image(dev, "ota_0");
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_2");                 /* then up */
    assert_int_equal(entry(dev, 0).ota_state, ESIM_OTA_STATE_ABORTED);
    esim_device_close(dev);
}

static void test_initial_contents_written(void **state)
{
    (void)state;
    esim_device *dev = open_board("ota", NULL, false);
    put_image(dev, "ota_1", "1");
    reset(dev, ESIM_RST_POWERON);
    assert_running(dev, "ota_1");
    esim_ota_entry e = entry(dev, 0);
    assert_int_equal(e.ota_seq, 2);
    assert_int_equal(e.ota_state, ESIM_OTA_STATE_VALID);
    assert_int_equal(e.crc, esim_ota_seq_crc(2));
    for (int i = 0; i < 20; i++)
        assert_int_equal(e.seq_label[i], 0xFF);
    assert_int_equal(entry(dev, 1).ota_seq, 0xFFFFFFFFu);
    esim_device_close(dev);
}

/* ---- set_boot errors ---- */

static void test_set_boot_refusals_leave_otadata_alone(void **state)
{
    (void)state;
    uint8_t before[OTADATA_SIZE], after[OTADATA_SIZE];
    esim_device *dev = open_board("ota", NULL, false);
    put_image(dev, "ota_0", "0");
    put_image(dev, "ota_1", "1");
    set_boot(dev, "ota_0", ESP_OK);
    damage_image(dev, "ota_1");
    read_otadata(dev, before);
    set_boot(dev, "ota_1", ESP_ERR_OTA_VALIDATE_FAILED);
    set_boot(dev, "nvs", ESP_ERR_OTA_VALIDATE_FAILED);
    set_boot(dev, "otadata", ESP_ERR_OTA_VALIDATE_FAILED);
    assert_int_equal(esim_ota_set_boot_partition(dev, NULL), ESP_ERR_INVALID_ARG);
    read_otadata(dev, after);
    assert_memory_equal(before, after, OTADATA_SIZE);
    esim_device_close(dev);

    /* no otadata: factory and mark_valid say NOT_FOUND */
    dev = open_board("default", NULL, false);
    put_image(dev, "factory", "f");
    set_boot(dev, "factory", ESP_ERR_NOT_FOUND);
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_ERR_NOT_FOUND);
    esim_device_close(dev);

    /* ota_2 without ota_1: only one consecutive slot */
    dev = open_board(NULL, csv_gap, false);
    put_image(dev, "ota_2", "2");
    set_boot(dev, "ota_2", ESP_ERR_INVALID_ARG);
    esim_device_close(dev);
}

/* ---- rollback off, deep sleep, blank boards ---- */

/* The bootloader rewrites a copy as it read it: a PENDING_VERIFY copy with
 * a wrong CRC becomes ABORTED and keeps the wrong CRC (ESP-IDF's
 * write_otadata), so the slot counts as blank-or-bad for the
 * initial-contents rule and copy 0 gets seq 1 VALID. */
static void test_bootloader_keeps_the_crc_it_read(void **state)
{
    (void)state;
    esim_device *dev = open_board("ota", NULL, false);
    put_image(dev, "ota_0", "1");
    uint8_t raw[OTADATA_SIZE];
    memset(raw, 0xFF, sizeof raw);
    const uint8_t entry1[32] = {2, 0, 0, 0, [24] = 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};  /* seq 2, PENDING, CRC blank */
    memcpy(raw + 0x1000, entry1, sizeof entry1);
    write_otadata(dev, raw);
    reset(dev, ESIM_RST_SW);
    read_otadata(dev, raw);
    assert_int_equal(raw[0x1000 + 24], ESIM_OTA_STATE_ABORTED);
    assert_memory_equal(raw + 0x1000 + 28, "\xff\xff\xff\xff", 4);
    esim_ota_entry e = entry(dev, 0);
    assert_int_equal(e.ota_seq, 1);
    assert_int_equal(e.ota_state, ESIM_OTA_STATE_VALID);
    assert_running(dev, "ota_0");
    esim_device_close(dev);
}

static void test_rollback_disabled(void **state)
{
    (void)state;
    esim_device *dev = open_board("ota", NULL, true);
    assert_false(esim_device_app_rollback(dev));
    put_image(dev, "ota_0", "0");
    put_image(dev, "ota_1", "1");
    set_boot(dev, "ota_1", ESP_OK);
    assert_int_equal(entry(dev, 0).ota_state, ESIM_OTA_STATE_UNDEFINED);
    reset(dev, ESIM_RST_SW);
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_1");
    assert_int_equal(entry(dev, 0).ota_state, ESIM_OTA_STATE_UNDEFINED);
    /* a NEW or PENDING_VERIFY entry left by a rollback build stays as it is */
    uint8_t rb[OTADATA_SIZE];
    load_vector("rb_02_bootloader_marked_PENDING_VERIFY.bin", rb);
    write_otadata(dev, rb);
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_0");
    assert_otadata_is(dev, "rb_02_bootloader_marked_PENDING_VERIFY.bin");
    load_vector("rb_01_setboot_ota0_from_blank_NEW.bin", rb);
    write_otadata(dev, rb);
    reset(dev, ESIM_RST_SW);
    assert_otadata_is(dev, "rb_01_setboot_ota0_from_blank_NEW.bin");
    /* mark_valid works without rollback too */
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_OK);
    assert_int_equal(entry(dev, 0).ota_state, ESIM_OTA_STATE_VALID);
    /* turned back on: the next set_boot writes NEW and the next boot acts on it */
    esim_device_set_app_rollback(dev, true);
    set_boot(dev, "ota_1", ESP_OK);
    assert_int_equal(entry(dev, 1).ota_state, ESIM_OTA_STATE_NEW);
    reset(dev, ESIM_RST_SW);
    assert_int_equal(entry(dev, 1).ota_state, ESIM_OTA_STATE_PENDING_VERIFY);
    esim_device_close(dev);
}

static void test_deep_sleep_wake_skips_the_bootloader_choice(void **state)
{
    (void)state;
    esim_device *dev = open_board("ota", NULL, false);
    put_image(dev, "ota_0", "0");
    put_image(dev, "ota_1", "1");
    set_boot(dev, "ota_0", ESP_OK);
    reset(dev, ESIM_RST_SW);
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_OK);
    set_boot(dev, "ota_1", ESP_OK);
    uint8_t before[OTADATA_SIZE], after[OTADATA_SIZE];
    read_otadata(dev, before);
    /* a damaged running image is not noticed either: no verification */
    damage_image(dev, "ota_0");
    reset(dev, ESIM_RST_DEEPSLEEP);
    assert_running(dev, "ota_0");
    assert_true(events_mention(dev, "deep-sleep wake"));
    read_otadata(dev, after);
    assert_memory_equal(before, after, OTADATA_SIZE);
    /* any other reset runs the usual choice */
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_1");
    assert_int_equal(entry(dev, 1).ota_state, ESIM_OTA_STATE_PENDING_VERIFY);
    /* after a power cycle the RTC memory is gone: a wake loads as usual */
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_OK);
    assert_int_equal(esim_device_power_cycle(dev), ESP_OK);
    reset(dev, ESIM_RST_DEEPSLEEP);
    assert_running(dev, "ota_1");
    esim_device_close(dev);
}

static void test_boards_without_app_images_still_boot(void **state)
{
    (void)state;
    esim_device *dev = open_board("default", NULL, false);
    assert_running(dev, "factory");
    assert_true(events_mention(dev, "unverified"));
    esim_device_close(dev);
    dev = open_board("ota", NULL, false);
    assert_running(dev, "ota_0");
    assert_true(events_mention(dev, "unverified"));
    /* nothing written on blank otadata: no initial contents without an app */
    assert_otadata_is(dev, "otadata_00_blank.bin");
    assert_int_equal(esim_ota_mark_app_valid(dev), ESP_FAIL);
    /* an otatool-style selection is still followed */
    uint8_t sel[OTADATA_SIZE];
    load_vector("otadata_01_after_switch_slot1.bin", sel);
    write_otadata(dev, sel);
    reset(dev, ESIM_RST_SW);
    assert_running(dev, "ota_1");
    esim_device_close(dev);
}

static void test_next_update_partition(void **state)
{
    (void)state;
    esim_partition p, start;
    esim_device *dev = open_board("ota", NULL, false);
    assert_true(esim_ota_next_update_partition(dev, NULL, &p));     /* running ota_0 */
    assert_string_equal(p.label, "ota_1");
    start = part_named(dev, "ota_1");
    assert_true(esim_ota_next_update_partition(dev, &start, &p));
    assert_string_equal(p.label, "ota_0");
    start = part_named(dev, "nvs");
    assert_true(esim_ota_next_update_partition(dev, &start, &p));
    assert_string_equal(p.label, "ota_0");
    esim_device_close(dev);
    dev = open_board(NULL, csv_factory_ota, false);
    assert_true(esim_ota_next_update_partition(dev, NULL, &p));     /* running factory */
    assert_string_equal(p.label, "ota_0");
    esim_device_close(dev);
    dev = open_board(NULL, csv_gap, false);
    start = part_named(dev, "ota_0");
    assert_true(esim_ota_next_update_partition(dev, &start, &p));
    assert_string_equal(p.label, "ota_2");
    esim_device_close(dev);
    dev = open_board("default", NULL, false);
    assert_false(esim_ota_next_update_partition(dev, NULL, &p));
    esim_device_close(dev);
}

static void test_read_only_board_writes_nothing(void **state)
{
    (void)state;
    char path[] = "/tmp/esim_test_ota_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    remove(path);
    esim_device_config cfg = {.flash_path = path, .layout = "ota"};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    fixture_blank_apps(dev);
    put_image(dev, "ota_0", "0");
    set_boot(dev, "ota_0", ESP_OK);
    esim_device_close(dev);
    esim_device_config ro = {.flash_path = path, .read_only = true};
    assert_int_equal(esim_device_open(&ro, &dev, NULL), ESP_OK);
    assert_running(dev, "ota_0");
    assert_otadata_is(dev, "rb_01_setboot_ota0_from_blank_NEW.bin");
    assert_true(events_mention(dev, "not written"));
    esim_device_close(dev);
    char wear[600];
    snprintf(wear, sizeof wear, "%s.wear", path);
    remove(path);
    remove(wear);
}

static void test_image_tools_write_no_otadata(void **state)
{
    (void)state;
    esim_device_config cfg = {.layout = "ota", .skip_nvs = true};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    put_image(dev, "ota_1", "1");
    set_boot(dev, "ota_1", ESP_OK);
    reset(dev, ESIM_RST_POWERON);
    assert_running(dev, "ota_1");
    assert_int_equal(entry(dev, 0).ota_state, ESIM_OTA_STATE_NEW);
    assert_true(events_mention(dev, "image tool: not written"));
    esim_device_close(dev);
}

/* The running app's image, verified, with its app description. */
static void assert_running_firmware(esim_device *dev, const char *label)
{
    esim_partition p;
    assert_true(esim_ota_running_partition(dev, &p));
    assert_string_equal(p.label, label);
    uint8_t *img = malloc(p.size);
    assert_non_null(img);
    assert_int_equal(esim_partition_read(dev, &p, 0, img, p.size), ESP_OK);
    esim_image_info info;
    assert_int_equal(esim_image_verify(img, p.size, &info), ESP_OK);
    assert_string_equal(info.app_desc.project_name, ESIM_FIRMWARE_PROJECT);
    assert_string_equal(info.app_desc.version, ESIM_FIRMWARE_VERSION);
    free(img);
    assert_false(events_mention(dev, "unverified"));
}

/* A new board ships with its firmware: factory on the default layout;
 * ota_0 on the OTA layout, where the first boot writes the initial
 * otadata entry (seq 1, VALID) as ESP-IDF's bootloader does. */
static void test_new_board_runs_its_firmware(void **state)
{
    (void)state;
    esim_device_config cfg = {.layout = "default"};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    assert_running_firmware(dev, "factory");
    esim_device_close(dev);
    cfg.layout = "ota";
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    assert_running_firmware(dev, "ota_0");
    assert_true(events_mention(dev, "initial contents"));
    esim_ota_entry e = entry(dev, 0);
    assert_int_equal(e.ota_seq, 1);
    assert_int_equal(e.ota_state, ESIM_OTA_STATE_VALID);
    assert_int_equal(entry(dev, 1).ota_seq, 0xFFFFFFFFu);
    reset(dev, ESIM_RST_SW);
    assert_running_firmware(dev, "ota_0");
    assert_false(events_mention(dev, "initial contents"));
    esim_device_close(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_board_runs_its_firmware),
        cmocka_unit_test(test_switch_sequence_matches_otatool),
        cmocka_unit_test(test_rollback_vectors),
        cmocka_unit_test(test_sequence_numbers_with_16_slots),
        cmocka_unit_test(test_rollback_timeline),
        cmocka_unit_test(test_factory_fallback),
        cmocka_unit_test(test_bad_images_are_skipped_down_then_up),
        cmocka_unit_test(test_initial_contents_written),
        cmocka_unit_test(test_set_boot_refusals_leave_otadata_alone),
        cmocka_unit_test(test_bootloader_keeps_the_crc_it_read),
        cmocka_unit_test(test_rollback_disabled),
        cmocka_unit_test(test_deep_sleep_wake_skips_the_bootloader_choice),
        cmocka_unit_test(test_boards_without_app_images_still_boot),
        cmocka_unit_test(test_next_update_partition),
        cmocka_unit_test(test_read_only_board_writes_nothing),
        cmocka_unit_test(test_image_tools_write_no_otadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
