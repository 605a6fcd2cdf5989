/*
 * geohash.h - Redis's geohash format and geometry (geohash.c): the 52-bit
 * interleaved score a geo member is stored with, its decoding back to
 * longitude/latitude, the 9-box neighbour search area of a radius or box
 * query, and the haversine distances.
 *
 * The format is Redis's, so every constant and every floating-point step
 * is the same as in Redis's geohash.c / geohash_helper.c: scores, decoded
 * coordinates and distances must be identical to the last bit. Latitudes
 * are limited to +-85.05112878 (EPSG:900913); a score packs 26 steps of
 * latitude (even bits) and longitude (odd bits).
 */
#ifndef GEOHASH_H
#define GEOHASH_H

#include <stdbool.h>
#include <stdint.h>

#define GEO_STEP_MAX 26 /* 26 * 2 = 52 bits */
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180
#define GEO_LONG_MAX 180

typedef struct {
    uint64_t bits;
    uint8_t step; /* bits holds 2 * step bits; a zero hash (0, 0) is "no box" */
} geohash_bits;

typedef struct {
    double min, max;
} geohash_range;

typedef struct {
    geohash_bits hash;
    geohash_range lon, lat;
} geohash_area;

/* A search shape: a circle (radius) or a box (width, height), in units of
 * `conversion` meters, around xy = (longitude, latitude). */
enum { GEO_SHAPE_CIRCLE = 1, GEO_SHAPE_BOX = 2 };
typedef struct {
    int type;
    double xy[2];
    double conversion;
    double bounds[4]; /* min lon, min lat, max lon, max lat (filled by the search) */
    double radius;
    double width, height;
} geo_shape;

/* The boxes a search visits, in Redis's order: the centre's box, then
 * north, south, east, west, north-east, north-west, south-east,
 * south-west; a box that cannot hold a match is zeroed. */
typedef struct {
    geohash_bits boxes[9];
    geohash_area area; /* the centre box */
} geohash_search;

/* Encode at `step` (1..32) within the given ranges; false when the point is
 * outside them or the WGS84 limits. */
bool geohash_encode(const geohash_range *lon_r, const geohash_range *lat_r, double lon, double lat, uint8_t step,
                    geohash_bits *out);
/* Encode within the WGS84 limits. */
bool geohash_encode_wgs84(double lon, double lat, uint8_t step, geohash_bits *out);
/* The hash's bits left-aligned to 52 bits: the sorted-set score. */
uint64_t geohash_align52(geohash_bits h);
/* A sorted-set score back to the centre of its cell (xy = lon, lat),
 * clamped to the limits. Scores that are not geohashes decode to something
 * all the same, as in Redis. */
void geohash_decode_score(double score, double *xy);
/* The 9 boxes covering a shape (fills shape->bounds). */
void geohash_search_area(geo_shape *shape, geohash_search *out);
/* Great-circle distance in meters (Redis's haversine, EARTH_RADIUS_IN_METERS
 * 6372797.560856). */
double geohash_distance(double lon1, double lat1, double lon2, double lat2);
/* Whether point xy lies within the shape; *dist gets its distance to the
 * centre (meters). */
bool geohash_in_shape(const geo_shape *shape, const double *xy, double *dist);

#endif
