/* Tests for the device: opening and creating boards, layouts, boot, resets,
 * clock, identity and the address map. */
#define _XOPEN_SOURCE 700   /* mkdtemp */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esp32sim/device.h"
#include "esp32sim/partition.h"

static char *temp_path(const char *name)
{
    static char dir[64];
    static char path[128];
    strcpy(dir, "/tmp/esim-dev-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void remove_image(const char *path)
{
    char wear[160];
    snprintf(wear, sizeof wear, "%s.wear", path);
    unlink(path);
    unlink(wear);
    char dir[128];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
}

static esim_device *open_memory(const char *layout)
{
    esim_device_config cfg = {.layout = layout};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    return dev;
}

static void test_default_board(void **state)
{
    (void)state;
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(NULL, &dev, NULL), ESP_OK);
    const esim_ptable *t = esim_device_ptable(dev);
    assert_int_equal(t->count, 3);
    assert_string_equal(t->entries[2].label, "factory");
    assert_int_equal(esim_flash_size(esim_device_flash(dev)), 4 * 1024 * 1024);
    assert_int_equal(esim_device_reset_reason(dev), ESIM_RST_POWERON);
    assert_int_equal(esim_device_boot_count(dev), 1);
    assert_null(esim_device_boot_error(dev));
    esim_device_close(dev);
}

static void test_vfs_is_registered_after_the_table(void **state)
{
    (void)state;
    esim_device *dev = open_memory("ota");
    esim_partition p;
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "vfs", &p));
    assert_int_equal(p.address, 0x310000);
    assert_int_equal(p.size, 0xF0000);
    assert_int_equal(p.subtype, 0x81);
    assert_true(p.registered);
    esim_device_close(dev);
}

static void test_explicit_vfs_is_not_registered_again(void **state)
{
    (void)state;
    esim_device_config cfg = {.layout_csv = "nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,0x1F0000,\n"
                                            "vfs,data,fat,0x200000,0x100000,\n"};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    esim_partition found[8];
    assert_int_equal(esim_partition_find(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "vfs", found, 8), 1);
    assert_false(found[0].registered);
    assert_int_equal(found[0].size, 0x100000);
    esim_device_close(dev);
}

static void test_new_image_file_keeps_its_table(void **state)
{
    (void)state;
    char *path = temp_path("flash.bin");
    esim_device_config cfg = {.flash_path = path, .layout = "ota", .flash_size = 8u << 20};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    esim_device_close(dev);

    esim_device_config again = {.flash_path = path};
    assert_int_equal(esim_device_open(&again, &dev, NULL), ESP_OK);
    assert_int_equal(esim_flash_size(esim_device_flash(dev)), 8u << 20);
    assert_int_equal(esim_device_ptable(dev)->count, 5);
    esim_device_close(dev);

    again.layout = "ota";    /* the same layout: fine */
    assert_int_equal(esim_device_open(&again, &dev, NULL), ESP_OK);
    esim_device_close(dev);
    remove_image(path);
}

static void test_different_layout_is_refused_without_change(void **state)
{
    (void)state;
    char *path = temp_path("flash.bin");
    esim_device_config cfg = {.flash_path = path};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    esim_device_close(dev);
    FILE *f = fopen(path, "rb");
    static uint8_t before[4 << 20], after[4 << 20];
    assert_int_equal(fread(before, 1, sizeof before, f), sizeof before);
    fclose(f);

    esim_ptable_error why = {0};
    cfg.layout = "ota";
    assert_int_equal(esim_device_open(&cfg, &dev, &why), ESP_ERR_INVALID_STATE);
    assert_non_null(strstr(why.message, "different partition table"));
    cfg.flash_size = 2u << 20;
    cfg.layout = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, &why), ESP_ERR_INVALID_SIZE);

    f = fopen(path, "rb");
    assert_int_equal(fread(after, 1, sizeof after, f), sizeof after);
    fclose(f);
    assert_memory_equal(before, after, sizeof before);
    remove_image(path);
}

static void test_bad_layouts(void **state)
{
    (void)state;
    esim_device *dev = NULL;
    esim_ptable_error why = {0};
    esim_device_config cfg = {.layout = "no-such-layout.csv"};
    assert_int_equal(esim_device_open(&cfg, &dev, &why), ESP_ERR_INVALID_ARG);
    assert_non_null(strstr(why.message, "no-such-layout.csv"));

    esim_device_config csv = {.layout_csv = "nvs, data, nvs, 0x9000, 0x6000,\nbig, app, factory, 0x10000, 5M,\n"};
    assert_int_not_equal(esim_device_open(&csv, &dev, &why), ESP_OK);
    assert_non_null(strstr(why.message, "layout"));

    esim_device_config size = {.flash_size = 3u << 20};
    assert_int_equal(esim_device_open(&size, &dev, &why), ESP_ERR_INVALID_SIZE);
}

static void test_new_image_not_created_for_a_bad_layout(void **state)
{
    (void)state;
    char *path = temp_path("flash.bin");
    esim_device *dev = NULL;
    esim_device_config cfg = {.flash_path = path, .layout_csv = "x, app, factory, 0x10001, 1M,\n"};
    assert_int_not_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    assert_int_not_equal(access(path, F_OK), 0);
    remove_image(path);
}

static void test_corrupt_table_fails_boot_with_reason(void **state)
{
    (void)state;
    char *path = temp_path("flash.bin");
    esim_device_config cfg = {.flash_path = path};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    uint8_t zero = 0x00;
    assert_int_equal(esim_flash_program(esim_device_flash(dev), 0x8000 + 41, &zero, 1), ESP_OK);
    assert_int_not_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);
    assert_non_null(esim_device_boot_error(dev));
    esim_partition p;
    assert_false(esim_partition_find_first(dev, ESIM_PART_TYPE_ANY, ESIM_PART_SUBTYPE_ANY, NULL, &p));
    esim_device_close(dev);

    esim_ptable_error why = {0};
    assert_int_not_equal(esim_device_open(&cfg, &dev, &why), ESP_OK);
    assert_non_null(strstr(why.message, "no valid partition table at 0x8000"));
    assert_non_null(strstr(why.message, path));
    remove_image(path);
}

static void test_resets_and_rtc_memory(void **state)
{
    (void)state;
    esim_device *dev = open_memory(NULL);
    assert_int_equal(esim_device_mem_write(dev, 0x50000010, 4, 0xDEADBEEF), ESP_OK);
    esim_device_advance_us(dev, 1500);
    esim_device_soft_reset(dev);
    assert_true(esim_device_soft_reset_since_boot(dev));

    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);
    uint32_t v = 0;
    assert_int_equal(esim_device_mem_read(dev, 0x50000010, 4, &v), ESP_OK);
    assert_int_equal(v, 0xDEADBEEF);                     /* RTC memory survives a reset */
    assert_int_equal(esim_device_reset_reason(dev), ESIM_RST_SW);
    assert_false(esim_device_soft_reset_since_boot(dev));
    assert_int_equal(esim_device_time_us(dev), 0);
    /* the RTC ran through both boots (290 ms each, modelled) and the 1.5 ms */
    assert_int_equal(esim_device_rtc_time_us(dev), 290000 + 1500 + 290000);
    assert_int_equal(esim_device_boot_count(dev), 2);

    assert_int_equal(esim_device_power_cycle(dev), ESP_OK);
    assert_int_equal(esim_device_mem_read(dev, 0x50000010, 4, &v), ESP_OK);
    assert_int_equal(v, 0);
    assert_int_equal(esim_device_reset_reason(dev), ESIM_RST_POWERON);
    assert_int_equal(esim_device_rtc_time_us(dev), 290000);   /* from 0 at power-on */
    esim_device_close(dev);
}

static void test_power_cycle_restores_flash_power(void **state)
{
    (void)state;
    esim_device *dev = open_memory(NULL);
    esim_flash *flash = esim_device_flash(dev);
    assert_int_equal(esim_flash_arm_cut_at_op(flash, 1, 3), ESP_OK);
    uint8_t b = 0;
    assert_int_equal(esim_flash_program(flash, 0x300000, &b, 1), ESP_ERR_FLASH_OP_FAIL);
    assert_int_not_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);   /* still no power */
    assert_int_equal(esim_device_power_cycle(dev), ESP_OK);
    assert_true(esim_flash_powered(flash));
    esim_device_close(dev);
}

static void test_cpu_frequency(void **state)
{
    (void)state;
    esim_device *dev = open_memory(NULL);
    assert_int_equal(esim_device_cpu_freq(dev), 160000000);
    assert_int_equal(esim_device_set_cpu_freq(dev, 240000000), ESP_OK);
    assert_int_equal(esim_device_cpu_freq(dev), 240000000);
    assert_int_equal(esim_device_set_cpu_freq(dev, 100000000), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);
    assert_int_equal(esim_device_cpu_freq(dev), 160000000);
    esim_device_close(dev);
}

static void test_mac_is_stable_per_image(void **state)
{
    (void)state;
    char *path = temp_path("flash.bin");
    esim_device_config cfg = {.flash_path = path};
    esim_device *a = NULL, *b = NULL, *m = open_memory(NULL);
    uint8_t mac_a[6], mac_b[6], mac_m[6];
    assert_int_equal(esim_device_open(&cfg, &a, NULL), ESP_OK);
    esim_device_mac(a, mac_a);
    esim_device_close(a);
    assert_int_equal(esim_device_open(&cfg, &b, NULL), ESP_OK);
    esim_device_mac(b, mac_b);
    esim_device_mac(m, mac_m);
    assert_memory_equal(mac_a, mac_b, 6);
    assert_memory_not_equal(mac_a, mac_m, 6);
    assert_int_equal(mac_a[0], 0x24);
    esim_device_close(b);
    esim_device_close(m);
    remove_image(path);
}

static void test_address_map(void **state)
{
    (void)state;
    esim_device *dev = open_memory(NULL);
    uint32_t v;
    assert_int_equal(esim_device_mem_write(dev, 0x50001FFC, 4, 0x11223344), ESP_OK);
    assert_int_equal(esim_device_mem_read(dev, 0x50001FFC, 1, &v), ESP_OK);
    assert_int_equal(v, 0x44);                                   /* little-endian */
    assert_int_equal(esim_device_mem_read(dev, 0x50001FFE, 2, &v), ESP_OK);
    assert_int_equal(v, 0x1122);
    assert_int_equal(esim_device_rtc_slow_mem(dev)[0x1FFD], 0x33);
    assert_int_equal(esim_device_mem_read(dev, 0x50002000, 1, &v), ESP_ERR_NOT_FOUND);
    assert_int_equal(esim_device_mem_read(dev, 0x4FFFFFFC, 4, &v), ESP_ERR_NOT_FOUND);
    assert_int_equal(esim_device_mem_read(dev, 0x50000002, 4, &v), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_device_mem_write(dev, 0x3FF80000, 2, 0xBEEF), ESP_OK);
    assert_int_equal(esim_device_mem_read(dev, 0x3FF80000, 4, &v), ESP_OK);
    assert_int_equal(v, 0xBEEF);
    assert_int_equal(esim_device_mem_read(dev, 0x50000000, 3, &v), ESP_ERR_INVALID_SIZE);
    esim_device_close(dev);
}

static uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void assert_file_is(const char *path, const uint8_t *bytes, size_t len)
{
    size_t now_len;
    uint8_t *now = read_whole(path, &now_len);
    assert_int_equal(now_len, len);
    assert_memory_equal(now, bytes, len);
    free(now);
}

static void test_read_only_board(void **state)
{
    (void)state;
    char *path = temp_path("flash.bin");
    char wear[160];
    snprintf(wear, sizeof wear, "%s.wear", path);
    esim_device_config cfg = {.flash_path = path, .layout = "ota"};
    esim_device *dev = NULL;
    assert_int_equal(esim_device_open(&cfg, &dev, NULL), ESP_OK);
    esim_device_close(dev);
    assert_int_equal(chmod(path, 0444), 0);
    assert_int_equal(chmod(wear, 0444), 0);
    size_t img_len, wear_len;
    uint8_t *img = read_whole(path, &img_len), *wear_bytes = read_whole(wear, &wear_len);

    esim_device_config ro = {.flash_path = path, .read_only = true};
    assert_int_equal(esim_device_open(&ro, &dev, NULL), ESP_OK);
    assert_true(esim_flash_read_only(esim_device_flash(dev)));
    assert_null(esim_device_boot_error(dev));
    assert_int_equal(esim_device_ptable(dev)->count, 5);
    esim_partition p;
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "vfs", &p));
    assert_true(p.registered);
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "nvs", &p));
    uint8_t buf[16], zeros[16] = {0};
    assert_int_equal(esim_partition_read(dev, &p, 0, buf, sizeof buf), ESP_OK);
    assert_int_equal(esim_partition_write(dev, &p, 0, zeros, sizeof zeros), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_partition_erase_range(dev, &p, 0, 4096), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(esim_device_hard_reset(dev, ESIM_RST_SW), ESP_OK);
    assert_int_equal(esim_flash_sync(esim_device_flash(dev)), ESP_OK);
    esim_device_close(dev);

    ro.layout = "ota";          /* the image's own layout: only compared */
    assert_int_equal(esim_device_open(&ro, &dev, NULL), ESP_OK);
    esim_device_close(dev);
    esim_ptable_error why = {0};
    ro.layout = "default";
    assert_int_equal(esim_device_open(&ro, &dev, &why), ESP_ERR_INVALID_STATE);
    assert_non_null(strstr(why.message, "different partition table"));
    ro.layout = NULL;
    ro.flash_size = 2u << 20;
    assert_int_equal(esim_device_open(&ro, &dev, &why), ESP_ERR_INVALID_SIZE);

    assert_file_is(path, img, img_len);
    assert_file_is(wear, wear_bytes, wear_len);
    free(img);
    free(wear_bytes);
    remove_image(path);
}

static void test_read_only_board_never_creates(void **state)
{
    (void)state;
    char *path = temp_path("flash.bin");
    esim_device *dev = NULL;
    esim_ptable_error why = {0};
    esim_device_config ro = {.flash_path = path, .layout = "ota", .read_only = true};
    assert_int_equal(esim_device_open(&ro, &dev, &why), ESP_ERR_NOT_FOUND);
    assert_non_null(strstr(why.message, path));
    assert_int_not_equal(access(path, F_OK), 0);

    esim_device_config memory = {.read_only = true};
    assert_int_equal(esim_device_open(&memory, &dev, &why), ESP_ERR_INVALID_ARG);
    assert_non_null(strstr(why.message, "read-only"));
    remove_image(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_board),
        cmocka_unit_test(test_vfs_is_registered_after_the_table),
        cmocka_unit_test(test_explicit_vfs_is_not_registered_again),
        cmocka_unit_test(test_new_image_file_keeps_its_table),
        cmocka_unit_test(test_different_layout_is_refused_without_change),
        cmocka_unit_test(test_bad_layouts),
        cmocka_unit_test(test_new_image_not_created_for_a_bad_layout),
        cmocka_unit_test(test_corrupt_table_fails_boot_with_reason),
        cmocka_unit_test(test_resets_and_rtc_memory),
        cmocka_unit_test(test_power_cycle_restores_flash_power),
        cmocka_unit_test(test_cpu_frequency),
        cmocka_unit_test(test_mac_is_stable_per_image),
        cmocka_unit_test(test_address_map),
        cmocka_unit_test(test_read_only_board),
        cmocka_unit_test(test_read_only_board_never_creates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
