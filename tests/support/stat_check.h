/*
 * stat_check.h - the statistics the sampling tests use to tell a uniform
 * random pick from a biased one with fixed bounds (header-only, no libm, so
 * unit and integration tests can both include it).
 *
 * - Pearson's chi-square of per-category counts against equal expected
 *   counts: for N categories it has N - 1 degrees of freedom, mean N - 1
 *   and standard deviation sqrt(2 (N - 1)) when the pick is uniform (for
 *   draws without replacement inside one call, as SRANDMEMBER key 10, the
 *   statistic is slightly smaller, so the bound stays safe).
 * - stat_chisq_bound(df) is the Wilson-Hilferty quantile at z = 6: a
 *   uniform sampler exceeds it with probability about 1e-9, while the
 *   biases this guards against (picks weighted by 1 / chain length, by
 *   1 / slot size, or toward entries after empty buckets) give 2 to 100
 *   times df.
 * - stat_z_hypergeom: for "of n picks without replacement from a population
 *   of N with K marked, k were marked", the distance from the mean in
 *   standard deviations; |z| <= 6 fails with probability about 2e-9.
 */
#ifndef STAT_CHECK_H
#define STAT_CHECK_H

#include <stddef.h>
#include <stdint.h>

static inline double stat_sqrt(double x) {
    if (x <= 0) return 0;
    double r = x > 1 ? x : 1;
    for (int i = 0; i < 200; i++) {
        double n = 0.5 * (r + x / r);
        if (n == r) break;
        r = n;
    }
    return r;
}

/* Pearson's statistic of counts[0..n) against the mean count. */
static inline double stat_chisq(const unsigned *counts, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; i++) total += counts[i];
    double e = total / (double)n, x = 0;
    for (size_t i = 0; i < n; i++) x += ((double)counts[i] - e) * ((double)counts[i] - e) / e;
    return x;
}

static inline double stat_chisq_bound(size_t df) {
    double a = 2.0 / (9.0 * (double)df);
    double c = 1.0 - a + 6.0 * stat_sqrt(a);
    return (double)df * c * c * c;
}

static inline double stat_z_hypergeom(double N, double K, double n, double k) {
    double mean = n * K / N;
    double var = n * (K / N) * (1 - K / N) * (N - n) / (N - 1);
    return var > 0 ? (k - mean) / stat_sqrt(var) : 0;
}

#endif
