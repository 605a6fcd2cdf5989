/*
 * test_geohash.c - Redis's geohash format (server/geohash.c): the 52-bit
 * scores, their decoding, the haversine distance and the search area's
 * boxes, against values redis-server 7.0 gives (GEOADD's ZSCOREs, GEOPOS's
 * "%.17Lf" coordinates, GEODIST's 4 decimals).
 */
#include "geohash.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static uint64_t score_of(double lon, double lat) {
    geohash_bits h;
    cr_assert(geohash_encode_wgs84(lon, lat, GEO_STEP_MAX, &h), "%f,%f must encode", lon, lat);
    return geohash_align52(h);
}

Test(geohash, scores_are_redis_scores) {
    cr_expect_eq(score_of(13.361389, 38.115556), 3479099956230698ULL);
    cr_expect_eq(score_of(15.087269, 37.502669), 3479447370796909ULL);
    cr_expect_eq(score_of(0, 0), 3377699720527872ULL);
    cr_expect_eq(score_of(-180, -85.05112878), 0ULL);
    cr_expect_eq(score_of(180, 85.05112878), 13510798882111488ULL);
    geohash_bits h;
    cr_expect_not(geohash_encode_wgs84(180.0000001, 0, GEO_STEP_MAX, &h));
    cr_expect_not(geohash_encode_wgs84(0, 85.05112879, GEO_STEP_MAX, &h));
    cr_expect_not(geohash_encode_wgs84(0, 0, 0, &h));
}

static void expect_decoded(double score, const char *lon, const char *lat) {
    double xy[2];
    char a[64], b[64];
    geohash_decode_score(score, xy);
    snprintf(a, sizeof a, "%.17f", xy[0]);
    snprintf(b, sizeof b, "%.17f", xy[1]);
    cr_expect_str_eq(a, lon, "score %.0f: longitude %s, want %s", score, a, lon);
    cr_expect_str_eq(b, lat, "score %.0f: latitude %s, want %s", score, b, lat);
}

Test(geohash, decoding_matches_geopos) {
    expect_decoded(3479099956230698.0, "13.36138933897018433", "38.11555639549629859");
    expect_decoded(13510798882111488.0, "180.00000000000000000", "85.05112877999999910"); /* clamped */
    expect_decoded(0, "-179.99999731779098511", "-85.05112751263942528");
    expect_decoded(3377699720527872.0, "0.00000268220901489", "0.00000126736058093");
}

Test(geohash, haversine_matches_geodist) {
    double p[2], c[2];
    geohash_decode_score(3479099956230698.0, p);
    geohash_decode_score(3479447370796909.0, c);
    char buf[64];
    snprintf(buf, sizeof buf, "%.4f", geohash_distance(p[0], p[1], c[0], c[1]));
    cr_expect_str_eq(buf, "166274.1516");
    /* same longitude: the latitude-only shortcut */
    cr_expect_float_eq(geohash_distance(10, 0, 10, 1), 6372797.560856 * (M_PI / 180.0), 1e-6);
    cr_expect_eq(geohash_distance(10, 20, 10, 20), 0);
}

Test(geohash, search_area_covers_the_circle) {
    geo_shape s = {.type = GEO_SHAPE_CIRCLE, .xy = {15, 37}, .conversion = 1000, .radius = 200};
    geohash_search a;
    geohash_search_area(&s, &a);
    cr_expect_gt(a.boxes[0].step, 0);
    cr_expect_leq(a.boxes[0].step, GEO_STEP_MAX);
    cr_expect_lt(s.bounds[0], 15);
    cr_expect_gt(s.bounds[2], 15);
    cr_expect_lt(s.bounds[1], 37);
    cr_expect_gt(s.bounds[3], 37);
    /* the centre box holds the centre */
    cr_expect(a.area.lon.min <= 15 && 15 <= a.area.lon.max && a.area.lat.min <= 37 && 37 <= a.area.lat.max);
    /* every point of the circle lies in a box that is searched */
    for (int i = 0; i < 360; i += 5) {
        double lon = 15 + 1.7 * cos(i * M_PI / 180), lat = 37 + 1.7 * sin(i * M_PI / 180), d;
        double xy[2] = {lon, lat};
        if (!geohash_in_shape(&s, xy, &d)) continue;
        geohash_bits h;
        geohash_encode_wgs84(lon, lat, a.boxes[0].step, &h);
        bool found = false;
        for (int b = 0; b < 9; b++) found |= a.boxes[b].step && a.boxes[b].bits == h.bits;
        cr_expect(found, "point %f,%f at %f m is in no searched box", lon, lat, d);
    }
}

Test(geohash, box_shape_checks_both_axes) {
    geo_shape s = {.type = GEO_SHAPE_BOX, .xy = {0, 0}, .conversion = 1000, .width = 200, .height = 100};
    double d, in[2] = {0.8, 0.3}, out_lat[2] = {0, 0.5}, out_lon[2] = {0.95, 0};
    cr_expect(geohash_in_shape(&s, in, &d));
    cr_expect_float_eq(d, geohash_distance(0, 0, 0.8, 0.3), 1e-9);
    cr_expect_not(geohash_in_shape(&s, out_lat, &d));
    cr_expect_not(geohash_in_shape(&s, out_lon, &d));
}
