/* esp32sim — UTF-8 checks for the text formats (CSV files, dumps). */
#ifndef ESP32SIM_UTF8_H
#define ESP32SIM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the well-formed UTF-8 sequence at s[0], of at most
 * `avail` bytes, or 0 when it is not one (overlong forms, surrogates and
 * code points above U+10FFFF are not). avail must be at least 1. */
size_t esim_utf8_seq_len(const uint8_t *s, size_t avail);

#endif
