/* libFuzzer target for the offline NVS image tools, which read untrusted
 * bytes: the integrity check, the page renderers and the export take the
 * input as an NVS partition image; the generator takes it as CSV text.
 * Whatever the generator accepts must pass the check with no error, and its
 * export must generate an image that exports to the same CSV again (a CSV
 * that sets a key twice keeps only the newer value in the export, so the
 * first round may change the image; the second may not). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/nvs_image.h"

#define GEN_SIZE 0x6000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_nvs_image: %s\n", what);
    abort();
}

static void inspect_image(const uint8_t *image, size_t len)
{
    esim_nvs_check_result result;
    if (esim_nvs_check(image, len, NULL, NULL, &result) != ESP_OK)
        die("check failed to run");
    size_t text_len = 0;
    free(esim_nvs_render_pages_text(image, len, &text_len));
    free(esim_nvs_render_pages_json(image, len));
    char *csv = NULL;
    size_t csv_len = 0;
    if (len > 0 && len % ESIM_NVS_PAGE_SIZE == 0 && esim_nvs_export(image, len, NULL, NULL, &csv, &csv_len) == ESP_OK)
        free(csv);
}

static char *export_of(const uint8_t *image, size_t *csv_len)
{
    char *csv = NULL;
    if (esim_nvs_export(image, GEN_SIZE, NULL, NULL, &csv, csv_len) != ESP_OK)
        die("a generated image does not export");
    return csv;
}

static void regenerate(const char *csv, size_t csv_len, uint8_t *out)
{
    esim_nvs_gen_options opts = {.base_dir = "/nonexistent"};
    if (esim_nvs_generate(csv, csv_len, GEN_SIZE, &opts, out, NULL) != ESP_OK)
        die("the export of a generated image does not generate");
}

/* The generator warns when a key is set twice: it writes both entries, as
 * ESP-IDF's does, and where they land ESP-IDF may keep both (the check then
 * rightly reports an error). */
static void count_warning(int line, const char *message, void *ctx)
{
    (void)line;
    (void)message;
    (*(int *)ctx)++;
}

/* A generated image passes the check (without errors when the generator
 * did not warn), and export/generate settles after one round. */
static void check_generated(const uint8_t *image, bool must_be_clean)
{
    esim_nvs_check_result result;
    if (esim_nvs_check(image, GEN_SIZE, NULL, NULL, &result) != ESP_OK || (must_be_clean && result.errors != 0))
        die("a generated image does not pass the check");
    uint8_t *again = malloc(GEN_SIZE);
    if (again == NULL)
        die("out of memory");
    size_t len1 = 0, len2 = 0;
    char *csv1 = export_of(image, &len1);
    regenerate(csv1, len1, again);
    char *csv2 = export_of(again, &len2);
    if (len1 != len2 || memcmp(csv1, csv2, len1) != 0)
        die("export -> generate -> export changed the CSV");
    free(csv1);
    free(csv2);
    free(again);
}

static void generate_from_text(const uint8_t *data, size_t size)
{
    uint8_t *image = malloc(GEN_SIZE);
    if (image == NULL)
        die("out of memory");
    /* File rows must not reach the machine's files. */
    int warnings = 0;
    esim_nvs_gen_options opts = {.base_dir = "/nonexistent", .warn = count_warning, .warn_ctx = &warnings};
    if (esim_nvs_generate((const char *)data, size, GEN_SIZE, &opts, image, NULL) == ESP_OK)
        check_generated(image, warnings == 0);
    free(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    inspect_image(data, size);
    generate_from_text(data, size);
    return 0;
}
