/*
 * bytelevel.c: GPT-2's reversible byte <-> unicode mapping (HF ByteLevel).
 *
 * Bytes that are printable and not whitespace keep their own code point:
 * '!'..'~' (0x21-0x7E), 0xA1-0xAC and 0xAE-0xFF. The other 68 bytes map, in
 * increasing byte order, to U+0100, U+0101, ... : 0x00-0x20 -> U+0100-U+0120
 * (so ' ' -> 'Ġ', '\n' -> 'Ċ'), 0x7F-0xA0 -> U+0121-U+0142, 0xAD -> U+0143.
 * Computed, not tabled, so there is no shared state to initialise.
 */
#include "tokenizer/tokenizer_internal.h"
#include "util/utf8.h"

uint32_t tg__bytelevel_char(uint8_t b) {
    if (b <= 0x20) return 0x100u + b;
    if (b >= 0x7F && b <= 0xA0) return 0x121u + (uint32_t)(b - 0x7F);
    if (b == 0xAD) return 0x143u;
    return b;
}

int tg__bytelevel_byte(uint32_t cp) {
    if (cp < 0x100) {
        if (cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD) return -1;
        return (int)cp;
    }
    if (cp <= 0x120) return (int)(cp - 0x100);
    if (cp <= 0x142) return (int)(cp - 0x121 + 0x7F);
    if (cp == 0x143) return 0xAD;
    return -1;
}

int tg__bytelevel_unmap(const char *s, size_t n, char *out, size_t *out_len) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t c0 = (uint8_t)s[i];
        if (c0 >= 0x21 && c0 <= 0x7E) { /* printable ASCII maps to itself */
            out[o++] = (char)c0;
            i++;
            continue;
        }
        if ((c0 == 0xC4 || c0 == 0xC5) && i + 1 < n && ((uint8_t)s[i + 1] & 0xC0) == 0x80) {
            /* U+0100..U+017F: the remapped bytes live in U+0100..U+0143 */
            uint32_t cp = ((uint32_t)(c0 & 0x1F) << 6) | ((uint8_t)s[i + 1] & 0x3Fu);
            int b = tg__bytelevel_byte(cp);
            if (b < 0) return 0;
            out[o++] = (char)(uint8_t)b;
            i += 2;
            continue;
        }
        uint32_t cp;
        size_t l = tgx_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        int b = l ? tg__bytelevel_byte(cp) : -1;
        if (b < 0) return 0;
        out[o++] = (char)(uint8_t)b;
        i += l;
    }
    *out_len = o;
    return 1;
}
