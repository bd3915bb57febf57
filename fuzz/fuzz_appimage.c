/* libFuzzer target for the app image verifier and builder.
 *
 * Each input is verified as an image; the verdict must agree with the
 * individual checks. When the segments could be walked, the harness
 * computes the checksum byte and SHA-256 itself, patches them into a copy
 * and verifies again: those two checks must then pass. Short inputs are
 * now and then used as a project name and version for the builder, whose image
 * must verify and carry them. Any disagreement aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "esp32sim/appimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *why, const esim_image_info *info)
{
    fprintf(stderr, "fuzz_appimage: %s (%s)\n", why, info ? info->reason : "");
    abort();
}

static void check_consistent(const esim_image_info *info, esp_err_t err, size_t size)
{
    bool all = info->checks.magic && info->checks.chip && info->checks.segments && info->checks.checksum
               && info->checks.sha256 && info->checks.length;
    if (err != info->result || (err != ESP_OK && err != ESP_ERR_IMAGE_INVALID))
        die("return value and result differ", info);
    if ((err == ESP_OK) != all)
        die("verdict disagrees with the checks", info);
    if ((err == ESP_OK) != (info->reason[0] == '\0'))
        die("reason missing or stray", info);
    if (err == ESP_OK && info->image_len > size)
        die("valid image longer than its bytes", info);
    if (info->has_app_desc && info->app_desc.magic_word != ESIM_APP_DESC_MAGIC)
        die("app description without its magic", info);
}

/* Offset just past the last segment, from the verifier's segment list. */
static size_t segments_end(const esim_image_info *info)
{
    if (info->segment_count == 0)
        return ESIM_IMAGE_HEADER_SIZE;
    const esim_image_segment *last = &info->segments[info->segment_count - 1];
    return (size_t)last->file_offset + last->data_len;
}

static void check_resealed(const uint8_t *data, size_t size, const esim_image_info *info)
{
    size_t end = segments_end(info);
    size_t padded = (end + 16) & ~(size_t)15;
    size_t total = padded + (info->hash_appended ? 32u : 0u);
    if (total > size)
        return;
    uint8_t *copy = malloc(size);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    uint8_t sum = 0xEF;
    for (unsigned i = 0; i < info->segment_count; i++)
        for (uint32_t k = 0; k < info->segments[i].data_len; k++)
            sum ^= copy[info->segments[i].file_offset + k];
    copy[padded - 1] = sum;
    if (info->hash_appended && mbedtls_sha256_ret(copy, padded, copy + padded, 0) != 0)
        abort();
    esim_image_info again;
    esp_err_t err = esim_image_verify(copy, size, &again);
    check_consistent(&again, err, size);
    if (!again.checks.checksum || !again.checks.sha256 || !again.checks.length || !again.checks.segments)
        die("resealed image still fails checksum or hash", &again);
    if (err == ESP_OK && esim_image_verify(copy, again.image_len - 1, NULL) == ESP_OK)
        die("one byte short still verifies", &again);
    free(copy);
}

/* Up to 31 bytes of the input as a C string. */
static void take_text(char *dst, const uint8_t *src, size_t n)
{
    size_t k = n < 31 ? n : 31;
    memcpy(dst, src, k);
    dst[k] = '\0';
}

static void fuzz_make(const uint8_t *data, size_t size)
{
    char project[32], version[32];
    take_text(project, data, size / 2);
    take_text(version, data + size / 2, size - size / 2);
    size_t image_size = 0x11200u + (size_t)(size ? data[0] : 0) * 16u;
    uint8_t *img;
    size_t len;
    if (esim_image_make(project, version, image_size, &img, &len) != ESP_OK)
        die("make failed", NULL);
    esim_image_info info;
    if (esim_image_verify(img, len, &info) != ESP_OK)
        die("made image does not verify", &info);
    if (len != image_size || !info.has_app_desc || strcmp(info.app_desc.project_name, project) != 0
        || strcmp(info.app_desc.version, version) != 0)
        die("made image does not carry its arguments", &info);
    free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esim_image_info info;
    esp_err_t err = esim_image_verify(data, size, &info);
    check_consistent(&info, err, size);
    if (info.checks.segments)
        check_resealed(data, size, &info);
    if (size >= 1 && size <= 62 && data[0] % 16 == 0)   /* building is slow: now and then */
        fuzz_make(data, size);
    return 0;
}
