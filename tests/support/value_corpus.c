/*
 * value_corpus.c - generated values for the differential suites (see
 * value_corpus.h).
 */
#include "value_corpus.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

size_t corpus_gen(int kind, int i, char *buf) {
    switch (kind) {
    case CORPUS_WORDS: return (size_t)sprintf(buf, "item-%d-%s", i, i % 2 ? "odd" : "even");
    case CORPUS_INTS: return (size_t)sprintf(buf, "%lld", (long long)(i - 40) * 982451653LL * (i % 5 + 1));
    case CORPUS_SMALL: return (size_t)sprintf(buf, "%d", i * 3 - 100);
    case CORPUS_BIG: {
        size_t n = 3000 + (size_t)(i % 7) * 1500;
        for (size_t k = 0; k < n; k++) buf[k] = (char)('a' + (k / 7 + (size_t)i) % 26);
        return n;
    }
    case CORPUS_BIN: {
        size_t n = 1 + (size_t)(i % 13);
        for (size_t k = 0; k < n; k++) buf[k] = (char)((i * 31 + (int)k * 7) & 0xff);
        return n;
    }
    case CORPUS_LONG: return (size_t)sprintf(buf, "%070d", i);
    default:
        if (i % 9 == 0) return 0;
        return corpus_gen(i % 3 == 0 ? CORPUS_INTS : i % 3 == 1 ? CORPUS_WORDS : CORPUS_BIN, i, buf);
    }
}

const corpus_string corpus_strings[] = {
    {"str:0", 0, "0"},
    {"str:neg", 0, "-12345"},
    {"str:i32", 0, "2147483647"},
    {"str:i64max", 0, "9223372036854775807"},
    {"str:i64min", 0, "-9223372036854775808"},
    {"str:minus0", 0, "-0"},
    {"str:lead0", 0, "007"},
    {"str:float", 0, "3.14"},
    {"str:25digits", 0, "1234567890123456789012345"},
    {"str:empty", 0, ""},
    {"str:emb44", 0, "a string of exactly forty-four bytes......."},
    {"str:raw45", 0, "a string of exactly forty-five bytes........"},
    {"str:bin", 9, "a\0b\0\xff\xfe\r\n!"},
};
const size_t corpus_nstrings = sizeof corpus_strings / sizeof *corpus_strings;

static const char *const scores[] = {"0", "-0", "1", "-1", "1.5", "0.1", "-2.5e-300", "1e20", "-1e300", "inf",
                                     "-inf", "4611686018427387904", "9007199254740993", "123456789", "3.14159"};
#define NSCORES (sizeof scores / sizeof *scores)

void corpus_build(const char *cmd, const char *key, int n, int kind, corpus_send_fn *send, void *arg) {
    enum { BATCH = 200 };
    static const char *argv[2 + 2 * BATCH];
    static size_t lens[2 + 2 * BATCH];
    static char bufs[2 * BATCH][CORPUS_ELEM_MAX];
    bool zadd = strcmp(cmd, "ZADD") == 0, hset = strcmp(cmd, "HSET") == 0;
    for (int from = 0; from < n; from += BATCH) {
        int argc = 0, nb = 0;
        argv[argc] = cmd, lens[argc++] = strlen(cmd);
        argv[argc] = key, lens[argc++] = strlen(key);
        for (int i = from; i < n && i < from + BATCH; i++) {
            char *b;
            if (zadd) { /* the special scores, then ties and fractions */
                b = bufs[nb++];
                int len = (size_t)i < NSCORES ? sprintf(b, "%s", scores[i])
                          : i % 4 == 0        ? sprintf(b, "7")
                                              : sprintf(b, "%d.%d", i / 3, i % 10);
                argv[argc] = b, lens[argc++] = (size_t)len;
            }
            b = bufs[nb++];
            argv[argc] = b, lens[argc++] = corpus_gen(kind, i, b);
            if (hset) {
                b = bufs[nb++];
                int vkind = kind == CORPUS_LONG ? CORPUS_LONG : i % 2 ? CORPUS_INTS : CORPUS_WORDS;
                argv[argc] = b, lens[argc++] = corpus_gen(vkind, i + 1000, b);
            }
        }
        send(argc, argv, lens, arg);
    }
}
