/* Tests for the esp_partition API over a board, and the OTA app choice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "esp32sim/ota.h"
#include "esp32sim/partition.h"
#include "fixtures.h"

static int open_board(void **state, const char *layout)
{
    esim_device_config cfg = {.layout = layout};
    esim_device *dev = NULL;
    if (esim_device_open(&cfg, &dev, NULL) != ESP_OK)
        return -1;
    *state = dev;
    return 0;
}

static int setup_default(void **state) { return open_board(state, "default"); }
static int setup_ota(void **state) { return open_board(state, "ota"); }
static int teardown(void **state)
{
    esim_device_close(*state);
    return 0;
}

static void test_find_order_and_filters(void **state)
{
    esim_device *dev = *state;
    esim_partition found[8];
    assert_int_equal(esim_partition_find(dev, ESIM_PART_TYPE_ANY, ESIM_PART_SUBTYPE_ANY, NULL, found, 8), 4);
    assert_string_equal(found[0].label, "nvs");
    assert_string_equal(found[2].label, "factory");
    assert_string_equal(found[3].label, "vfs");
    assert_int_equal(esim_partition_find(dev, ESIM_PART_TYPE_ANY, 0x02, NULL, found, 8), 0);
    assert_int_equal(esim_partition_find(dev, ESIM_PART_TYPE_DATA, 0x01, NULL, found, 8), 1);
    assert_string_equal(found[0].label, "phy_init");
    assert_int_equal(esim_partition_find(dev, ESIM_PART_TYPE_APP, ESIM_PART_SUBTYPE_ANY, "nvs", found, 8), 0);
    assert_int_equal(esim_partition_find(dev, 0x100, ESIM_PART_SUBTYPE_ANY, NULL, found, 8), 0);
    /* the count is the number of matches even when cap is smaller */
    assert_int_equal(esim_partition_find(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, NULL, found, 1), 3);
}

static void test_read_write_erase_checks(void **state)
{
    esim_device *dev = *state;
    esim_partition p;
    uint8_t buf[16] = {0};
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, 0x01, NULL, &p));   /* 4 KiB */
    assert_int_equal(esim_partition_read(dev, &p, 4096, buf, 0), ESP_OK);
    assert_int_equal(esim_partition_read(dev, &p, 4096, buf, 1), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_partition_read(dev, &p, 4097, buf, 0), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_partition_write(dev, &p, 4090, buf, 16), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_partition_erase_range(dev, &p, 0, 100), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_partition_erase_range(dev, &p, 8192, 0), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_partition_erase_range(dev, &p, 4096, 4096), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_partition_erase_range(dev, &p, 0, 4096), ESP_OK);

    assert_int_equal(esim_partition_write(dev, &p, 100, "\x0f\xf0", 2), ESP_OK);
    assert_int_equal(esim_partition_write(dev, &p, 100, "\x3c\x3c", 2), ESP_OK);
    assert_int_equal(esim_partition_read(dev, &p, 99, buf, 4), ESP_OK);
    assert_memory_equal(buf, "\xff\x0c\x30\xff", 4);
    assert_memory_equal(esim_flash_peek(esim_device_flash(dev)) + 0xF000 + 100, "\x0c\x30", 2);
}

static void test_erase_alignment_is_checked_after_size(void **state)
{
    esim_device *dev = *state;
    esim_partition p;
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, 0x02, NULL, &p));
    assert_int_equal(esim_partition_erase_range(dev, &p, 100, 4096), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_partition_erase_range(dev, &p, 100, 4000), ESP_ERR_INVALID_SIZE);
}

static void test_readonly_flag(void **state)
{
    (void)state;
    esim_device_config cfg = {.layout_csv = "ro, data, nvs, 0x9000, 0x2000, readonly\n"
                                            "factory, app, factory, 0x10000, 1M,\n"};
    esim_device *dev = NULL;
    esim_partition p;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "ro", &p));
    assert_true(p.readonly);
    assert_int_equal(esim_partition_write(dev, &p, 0, "x", 1), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_partition_erase_range(dev, &p, 0, 4096), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_partition_write(dev, &p, 1 << 20, "x", 1), ESP_ERR_NOT_ALLOWED);  /* checked first */
    esim_device_close(dev);
}

static void test_register(void **state)
{
    esim_device *dev = *state;
    esim_partition p;
    assert_int_equal(esim_partition_register(dev, 0x3F0000, 0x20000, "late", 1, 0x82, &p), ESP_ERR_INVALID_SIZE);
    assert_int_equal(esim_partition_register(dev, 0x1F0000, 0x20000, "late", 1, 0x82, &p), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_partition_register(dev, 0x1000, 0x1000, "seventeen-chars!!", 1, 0x82, &p),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_partition_register(dev, 0x1000, 0x1000, "boot", 1, 0x82, &p), ESP_OK);
    assert_true(p.registered);
    assert_true(esim_partition_find_first(dev, 1, 0x82, "boot", &p));
    assert_int_equal(p.address, 0x1000);
    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);    /* gone after a reset */
    assert_false(esim_partition_find_first(dev, 1, 0x82, "boot", &p));
}

/* ---- otadata ---- */

static void load_otadata(esim_device *dev, const char *name)
{
    char path[512];
    uint8_t image[0x2000];
    snprintf(path, sizeof path, "%s/ota/%s", ESIM_FIXTURES_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(image, 1, sizeof image, f), sizeof image);
    fclose(f);
    esim_partition otadata;
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, 0x00, NULL, &otadata));
    assert_int_equal(esim_partition_erase_range(dev, &otadata, 0, sizeof image), ESP_OK);
    assert_int_equal(esim_partition_write(dev, &otadata, 0, image, sizeof image), ESP_OK);
}

static const char *boot_label(esim_device *dev)
{
    static esim_partition p;
    return esim_ota_boot_partition(dev, &p) ? p.label : "(none)";
}

static void test_seq_crc_matches_esp_idf(void **state)
{
    (void)state;
    assert_int_equal(esim_ota_seq_crc(1), 0x4743989A);
    assert_int_equal(esim_ota_seq_crc(2), 0x55F63774);
    assert_int_equal(esim_ota_seq_crc(4), 0x709D68A8);
    assert_int_equal(esim_ota_seq_crc(0xFFFFFFFF), 0x2144DF1C);
}

static void test_boot_partition_follows_otatool_vectors(void **state)
{
    esim_device *dev = *state;
    assert_string_equal(boot_label(dev), "ota_0");                 /* blank: no factory, so ota_0 */
    load_otadata(dev, "otadata_01_after_switch_slot1.bin");
    assert_string_equal(boot_label(dev), "ota_1");
    load_otadata(dev, "otadata_02_after_switch_slot0.bin");
    assert_string_equal(boot_label(dev), "ota_0");
    load_otadata(dev, "otadata_03_after_switch_slot1.bin");
    assert_string_equal(boot_label(dev), "ota_1");
    load_otadata(dev, "rb_03_app_marked_VALID.bin");
    assert_string_equal(boot_label(dev), "ota_0");
    assert_int_equal(esim_ota_slot_count(dev), 2);
}

static void test_entry_validity(void **state)
{
    (void)state;
    uint8_t raw[32];
    esim_ota_entry e[2];
    memset(raw, 0xFF, sizeof raw);
    esim_ota_decode_entry(raw, &e[0]);
    assert_false(esim_ota_entry_valid(&e[0]));
    e[0].ota_seq = 3;
    e[0].crc = esim_ota_seq_crc(3);
    e[1] = e[0];
    e[1].ota_seq = 4;
    e[1].crc = esim_ota_seq_crc(4);
    assert_int_equal(esim_ota_active_entry(e), 1);
    e[1].ota_state = ESIM_OTA_STATE_ABORTED;
    assert_int_equal(esim_ota_active_entry(e), 0);
    e[0].crc ^= 1;
    assert_int_equal(esim_ota_active_entry(e), -1);
}

static void test_running_partition_is_chosen_at_boot(void **state)
{
    esim_device *dev = *state;
    esim_partition p;
    assert_true(esim_ota_running_partition(dev, &p));
    assert_string_equal(p.label, "ota_0");
    load_otadata(dev, "otadata_01_after_switch_slot1.bin");
    assert_true(esim_ota_running_partition(dev, &p));
    assert_string_equal(p.label, "ota_0");
    /* ota_1 is selected but empty: the bootloader falls back to ota_0 */
    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);
    assert_true(esim_ota_running_partition(dev, &p));
    assert_string_equal(p.label, "ota_0");
    fixture_put_image(dev, "ota_1", "2.0.0");
    load_otadata(dev, "otadata_01_after_switch_slot1.bin");
    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);
    assert_true(esim_ota_running_partition(dev, &p));
    assert_string_equal(p.label, "ota_1");
}

static void test_no_otadata_means_no_boot_partition(void **state)
{
    esim_device *dev = *state;
    esim_partition p;
    assert_false(esim_ota_boot_partition(dev, &p));
    assert_true(esim_ota_running_partition(dev, &p));
    assert_string_equal(p.label, "factory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_find_order_and_filters, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_read_write_erase_checks, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_erase_alignment_is_checked_after_size, setup_default, teardown),
        cmocka_unit_test(test_readonly_flag),
        cmocka_unit_test_setup_teardown(test_register, setup_default, teardown),
        cmocka_unit_test(test_seq_crc_matches_esp_idf),
        cmocka_unit_test_setup_teardown(test_boot_partition_follows_otatool_vectors, setup_ota, teardown),
        cmocka_unit_test(test_entry_validity),
        cmocka_unit_test_setup_teardown(test_running_partition_is_chosen_at_boot, setup_ota, teardown),
        cmocka_unit_test_setup_teardown(test_no_otadata_means_no_boot_partition, setup_default, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
