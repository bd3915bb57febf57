/* Tests for esim_err_name(): ESP-IDF's names, and the unknown case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "esp32sim/err.h"

static void test_generic_names(void **state)
{
    (void)state;
    assert_string_equal(esim_err_name(ESP_OK), "ESP_OK");
    assert_string_equal(esim_err_name(ESP_FAIL), "ESP_FAIL");
    assert_string_equal(esim_err_name(0x101), "ESP_ERR_NO_MEM");
    assert_string_equal(esim_err_name(0x102), "ESP_ERR_INVALID_ARG");
    assert_string_equal(esim_err_name(0x104), "ESP_ERR_INVALID_SIZE");
    assert_string_equal(esim_err_name(0x105), "ESP_ERR_NOT_FOUND");
    assert_string_equal(esim_err_name(0x10D), "ESP_ERR_NOT_ALLOWED");
}

static void test_subsystem_names(void **state)
{
    (void)state;
    assert_string_equal(esim_err_name(0x1100), "ESP_ERR_NVS_BASE");
    assert_string_equal(esim_err_name(0x1102), "ESP_ERR_NVS_NOT_FOUND");
    assert_string_equal(esim_err_name(0x1110), "ESP_ERR_NVS_NEW_VERSION_FOUND");
    assert_string_equal(esim_err_name(0x1503), "ESP_ERR_OTA_VALIDATE_FAILED");
    assert_string_equal(esim_err_name(0x1506), "ESP_ERR_OTA_ROLLBACK_INVALID_STATE");
    assert_string_equal(esim_err_name(0x6001), "ESP_ERR_FLASH_OP_FAIL");
    assert_string_equal(esim_err_name(0x6002), "ESP_ERR_FLASH_OP_TIMEOUT");
}

static void test_unknown_codes(void **state)
{
    (void)state;
    assert_string_equal(esim_err_name(-2), "UNKNOWN ERROR");
    assert_string_equal(esim_err_name(1), "UNKNOWN ERROR");
    assert_string_equal(esim_err_name(0x10E), "UNKNOWN ERROR");
    assert_string_equal(esim_err_name(0x1111), "UNKNOWN ERROR");
    assert_string_equal(esim_err_name(0x6003), "UNKNOWN ERROR");
    assert_string_equal(esim_err_name(INT32_MIN), "UNKNOWN ERROR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic_names),
        cmocka_unit_test(test_subsystem_names),
        cmocka_unit_test(test_unknown_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
