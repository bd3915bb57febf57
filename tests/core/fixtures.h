/* Shared by the C tests: read a file from tests/fixtures. Include after
 * <cmocka.h>. */
#ifndef ESP32SIM_TEST_FIXTURES_H
#define ESP32SIM_TEST_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole file ESIM_FIXTURES_DIR/rel in a malloc'd buffer with a NUL
 * after the data (so text fixtures are C strings); fails the test when the
 * file cannot be read. */
static inline uint8_t *read_fixture_file(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ESIM_FIXTURES_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

#endif
