/* esp32sim — ESP-IDF error codes (esp_err_t) used throughout the core.
 *
 * Every core function that can fail returns an esp_err_t with the same value
 * ESP-IDF would return in the same situation, so the binding can turn it into
 * the exception MicroPython raises on a real board. */
#ifndef ESP32SIM_ERR_H
#define ESP32SIM_ERR_H

#include <stdint.h>

typedef int32_t esp_err_t;

#define ESP_OK                      0
#define ESP_FAIL                    (-1)

#define ESP_ERR_NO_MEM              0x101
#define ESP_ERR_INVALID_ARG         0x102
#define ESP_ERR_INVALID_STATE       0x103
#define ESP_ERR_INVALID_SIZE        0x104
#define ESP_ERR_NOT_FOUND           0x105
#define ESP_ERR_NOT_SUPPORTED       0x106
#define ESP_ERR_TIMEOUT             0x107
#define ESP_ERR_INVALID_RESPONSE    0x108
#define ESP_ERR_INVALID_CRC         0x109
#define ESP_ERR_INVALID_VERSION     0x10A
#define ESP_ERR_INVALID_MAC         0x10B
#define ESP_ERR_NOT_FINISHED        0x10C
#define ESP_ERR_NOT_ALLOWED         0x10D

#define ESP_ERR_NVS_BASE                0x1100
#define ESP_ERR_NVS_NOT_INITIALIZED     0x1101
#define ESP_ERR_NVS_NOT_FOUND           0x1102
#define ESP_ERR_NVS_TYPE_MISMATCH       0x1103
#define ESP_ERR_NVS_READ_ONLY           0x1104
#define ESP_ERR_NVS_NOT_ENOUGH_SPACE    0x1105
#define ESP_ERR_NVS_INVALID_NAME        0x1106
#define ESP_ERR_NVS_INVALID_HANDLE      0x1107
#define ESP_ERR_NVS_REMOVE_FAILED       0x1108
#define ESP_ERR_NVS_KEY_TOO_LONG        0x1109
#define ESP_ERR_NVS_PAGE_FULL           0x110A
#define ESP_ERR_NVS_INVALID_STATE       0x110B
#define ESP_ERR_NVS_INVALID_LENGTH      0x110C
#define ESP_ERR_NVS_NO_FREE_PAGES       0x110D
#define ESP_ERR_NVS_VALUE_TOO_LONG      0x110E
#define ESP_ERR_NVS_PART_NOT_FOUND      0x110F
#define ESP_ERR_NVS_NEW_VERSION_FOUND   0x1110

#define ESP_ERR_OTA_BASE                    0x1500
#define ESP_ERR_OTA_PARTITION_CONFLICT      0x1501
#define ESP_ERR_OTA_SELECT_INFO_INVALID     0x1502
#define ESP_ERR_OTA_VALIDATE_FAILED         0x1503
#define ESP_ERR_OTA_SMALL_SEC_VER           0x1504
#define ESP_ERR_OTA_ROLLBACK_FAILED         0x1505
#define ESP_ERR_OTA_ROLLBACK_INVALID_STATE  0x1506

#define ESP_ERR_IMAGE_BASE          0x2000
#define ESP_ERR_IMAGE_FLASH_FAIL    0x2001
#define ESP_ERR_IMAGE_INVALID       0x2002

#define ESP_ERR_FLASH_BASE          0x6000
#define ESP_ERR_FLASH_OP_FAIL       0x6001
#define ESP_ERR_FLASH_OP_TIMEOUT    0x6002

/* The name ESP-IDF's esp_err_to_name() gives, e.g. "ESP_ERR_NVS_NOT_FOUND".
 * Unknown codes give "UNKNOWN ERROR", as ESP-IDF does. */
const char *esim_err_name(esp_err_t code);

#endif
