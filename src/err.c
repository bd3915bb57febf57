/* esp32sim — names of the esp_err_t codes, as ESP-IDF's esp_err_to_name()
 * prints them: the name of the macro that defines the code. */
#include "esp32sim/err.h"

#include <stddef.h>

typedef struct {
    esp_err_t code;
    const char *name;
} err_entry;

/* One row per code in err.h; the name is the macro's own spelling. */
#define ROW(code) { code, #code }

static const err_entry err_table[] = {
    ROW(ESP_OK),
    ROW(ESP_FAIL),

    ROW(ESP_ERR_NO_MEM),
    ROW(ESP_ERR_INVALID_ARG),
    ROW(ESP_ERR_INVALID_STATE),
    ROW(ESP_ERR_INVALID_SIZE),
    ROW(ESP_ERR_NOT_FOUND),
    ROW(ESP_ERR_NOT_SUPPORTED),
    ROW(ESP_ERR_TIMEOUT),
    ROW(ESP_ERR_INVALID_RESPONSE),
    ROW(ESP_ERR_INVALID_CRC),
    ROW(ESP_ERR_INVALID_VERSION),
    ROW(ESP_ERR_INVALID_MAC),
    ROW(ESP_ERR_NOT_FINISHED),
    ROW(ESP_ERR_NOT_ALLOWED),

    ROW(ESP_ERR_NVS_BASE),
    ROW(ESP_ERR_NVS_NOT_INITIALIZED),
    ROW(ESP_ERR_NVS_NOT_FOUND),
    ROW(ESP_ERR_NVS_TYPE_MISMATCH),
    ROW(ESP_ERR_NVS_READ_ONLY),
    ROW(ESP_ERR_NVS_NOT_ENOUGH_SPACE),
    ROW(ESP_ERR_NVS_INVALID_NAME),
    ROW(ESP_ERR_NVS_INVALID_HANDLE),
    ROW(ESP_ERR_NVS_REMOVE_FAILED),
    ROW(ESP_ERR_NVS_KEY_TOO_LONG),
    ROW(ESP_ERR_NVS_PAGE_FULL),
    ROW(ESP_ERR_NVS_INVALID_STATE),
    ROW(ESP_ERR_NVS_INVALID_LENGTH),
    ROW(ESP_ERR_NVS_NO_FREE_PAGES),
    ROW(ESP_ERR_NVS_VALUE_TOO_LONG),
    ROW(ESP_ERR_NVS_PART_NOT_FOUND),
    ROW(ESP_ERR_NVS_NEW_VERSION_FOUND),

    ROW(ESP_ERR_OTA_BASE),
    ROW(ESP_ERR_OTA_PARTITION_CONFLICT),
    ROW(ESP_ERR_OTA_SELECT_INFO_INVALID),
    ROW(ESP_ERR_OTA_VALIDATE_FAILED),
    ROW(ESP_ERR_OTA_SMALL_SEC_VER),
    ROW(ESP_ERR_OTA_ROLLBACK_FAILED),
    ROW(ESP_ERR_OTA_ROLLBACK_INVALID_STATE),

    ROW(ESP_ERR_IMAGE_BASE),
    ROW(ESP_ERR_IMAGE_FLASH_FAIL),
    ROW(ESP_ERR_IMAGE_INVALID),
    ROW(ESP_ERR_FLASH_BASE),
    ROW(ESP_ERR_FLASH_OP_FAIL),
    ROW(ESP_ERR_FLASH_OP_TIMEOUT),
};

#undef ROW

const char *esim_err_name(esp_err_t code)
{
    size_t count = sizeof err_table / sizeof err_table[0];
    for (size_t i = 0; i < count; i++) {
        if (err_table[i].code == code)
            return err_table[i].name;
    }
    return "UNKNOWN ERROR";
}
