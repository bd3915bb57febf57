/* esp32sim — UTF-8 sequence checks. */
#include "esp32sim/utf8.h"

static size_t lead_length(uint8_t c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    return (c & 0xF8) == 0xF0 ? 4 : 0;
}

size_t esim_utf8_seq_len(const uint8_t *s, size_t avail)
{
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n = lead_length(s[0]);
    if (n <= 1 || n > avail)
        return n == 1 ? 1 : 0;
    uint32_t cp = s[0] & (0x7Fu >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3Fu);
    }
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}
