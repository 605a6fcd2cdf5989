/*
 * geohash.c - Redis's geohash encoding, decoding, neighbour boxes and
 * distances (see geohash.h).
 *
 * Design choices a reader must know:
 * - Every floating-point expression keeps Redis's operand order (offsets
 *   scaled by 2^step, cell bounds as min + (i / 2^step) * scale, degrees to
 *   radians as d * (pi / 180)): reordering one of them changes the last bit
 *   of a coordinate or distance, and those are printed with 17 digits.
 * - A hash's latitude bits are the even ones, longitude the odd ones.
 */
#include "geohash.h"

#include <math.h>
#include <stddef.h>

#define EARTH_RADIUS_IN_METERS 6372797.560856
#define MERCATOR_MAX 20037726.37
#define DEG_RAD (M_PI / 180.0)

static inline double deg_to_rad(double d) { return d * DEG_RAD; }
static inline double rad_to_deg(double r) { return r / DEG_RAD; }

/* ------------------------------------------------------------ bit interleaving */

/* The 32 bits of v spread to the even bit positions of the result. */
static uint64_t spread32(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The even bits of x packed into 32 bits (inverse of spread32). */
static uint32_t squash32(uint64_t x) {
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/* ------------------------------------------------------------ encode / decode */

static const geohash_range wgs84_lon = {GEO_LONG_MIN, GEO_LONG_MAX};
static const geohash_range wgs84_lat = {GEO_LAT_MIN, GEO_LAT_MAX};

bool geohash_encode(const geohash_range *lon_r, const geohash_range *lat_r, double lon, double lat, uint8_t step,
                    geohash_bits *out) {
    if (step == 0 || step > 32) return false;
    if ((lat_r->min == 0 && lat_r->max == 0) || (lon_r->min == 0 && lon_r->max == 0)) return false;
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return false;
    out->bits = 0;
    out->step = step;
    if (lat < lat_r->min || lat > lat_r->max || lon < lon_r->min || lon > lon_r->max) return false;
    double lat_off = (lat - lat_r->min) / (lat_r->max - lat_r->min);
    double lon_off = (lon - lon_r->min) / (lon_r->max - lon_r->min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    /* The conversions truncate, as Redis's implicit double -> uint32_t. */
    out->bits = spread32((uint32_t)lat_off) | (spread32((uint32_t)lon_off) << 1);
    return true;
}

bool geohash_encode_wgs84(double lon, double lat, uint8_t step, geohash_bits *out) {
    return geohash_encode(&wgs84_lon, &wgs84_lat, lon, lat, step, out);
}

/* The cell of a hash; false for the zero hash. */
static bool geohash_decode(const geohash_range *lon_r, const geohash_range *lat_r, geohash_bits h, geohash_area *a) {
    if (h.bits == 0 && h.step == 0) return false;
    a->hash = h;
    uint32_t ilat = squash32(h.bits), ilon = squash32(h.bits >> 1);
    double lat_scale = lat_r->max - lat_r->min, lon_scale = lon_r->max - lon_r->min;
    double cells = (double)(1ULL << h.step);
    a->lat.min = lat_r->min + (ilat * 1.0 / cells) * lat_scale;
    a->lat.max = lat_r->min + ((ilat + 1) * 1.0 / cells) * lat_scale;
    a->lon.min = lon_r->min + (ilon * 1.0 / cells) * lon_scale;
    a->lon.max = lon_r->min + ((ilon + 1) * 1.0 / cells) * lon_scale;
    return true;
}

uint64_t geohash_align52(geohash_bits h) { return h.bits << (52 - h.step * 2); }

void geohash_decode_score(double score, double *xy) {
    /* Redis casts the score as is: a score that is not a geohash (negative,
     * fractional, beyond 2^52) decodes to some clamped point. */
    geohash_bits h = {.bits = (uint64_t)score, .step = GEO_STEP_MAX};
    geohash_area a;
    if (!geohash_decode(&wgs84_lon, &wgs84_lat, h, &a)) return; /* step 26: never */
    xy[0] = (a.lon.min + a.lon.max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (a.lat.min + a.lat.max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
}

/* ------------------------------------------------------------ neighbours */

#define EVEN_BITS 0x5555555555555555ULL /* latitude */
#define ODD_BITS 0xaaaaaaaaaaaaaaaaULL  /* longitude */

/* Move the hash one cell along the bits of `mask` (ODD_BITS: longitude,
 * EVEN_BITS: latitude), d = +1 or -1, wrapping around. */
static void geohash_move(geohash_bits *h, uint64_t mask, int d) {
    uint64_t other = ~mask;
    uint64_t v = h->bits & mask, keep = h->bits & other;
    uint64_t fill = other >> (64 - h->step * 2); /* the other axis's bits: carries pass through them */
    if (d > 0)
        v = v + (fill + 1);
    else
        v = (v | fill) - (fill + 1);
    v &= mask >> (64 - h->step * 2);
    h->bits = v | keep;
}

static geohash_bits moved(geohash_bits h, int dlon, int dlat) {
    if (dlon) geohash_move(&h, ODD_BITS, dlon);
    if (dlat) geohash_move(&h, EVEN_BITS, dlat);
    return h;
}

/* ------------------------------------------------------------ search area */

/* Redis's geohashEstimateStepsByRadius. */
static int steps_for_radius(double range_m, double lat) {
    if (range_m == 0) return 26;
    int step = 1;
    while (range_m < MERCATOR_MAX) {
        range_m *= 2;
        step++;
    }
    step -= 2; /* so that the range fits in most cases */
    /* Cells are narrower towards the poles. */
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > 26) step = 26;
    return step;
}

/* The shape's bounding box (Redis's geohashBoundingBox): on each
 * hemisphere the box is widest on the side nearer the equator. */
static void bounding_box(geo_shape *s) {
    double lon = s->xy[0], lat = s->xy[1];
    double height = s->conversion * (s->type == GEO_SHAPE_CIRCLE ? s->radius : s->height / 2);
    double width = s->conversion * (s->type == GEO_SHAPE_CIRCLE ? s->radius : s->width / 2);
    const double lat_delta = rad_to_deg(height / EARTH_RADIUS_IN_METERS);
    const double lon_delta_top = rad_to_deg(width / EARTH_RADIUS_IN_METERS / cos(deg_to_rad(lat + lat_delta)));
    const double lon_delta_bottom = rad_to_deg(width / EARTH_RADIUS_IN_METERS / cos(deg_to_rad(lat - lat_delta)));
    bool south = lat < 0;
    s->bounds[0] = south ? lon - lon_delta_bottom : lon - lon_delta_top;
    s->bounds[2] = south ? lon + lon_delta_bottom : lon + lon_delta_top;
    s->bounds[1] = lat - lat_delta;
    s->bounds[3] = lat + lat_delta;
}

/* Box order in geohash_search.boxes[] (Redis's membersOfAllNeighbors). */
enum { BOX_C, BOX_N, BOX_S, BOX_E, BOX_W, BOX_NE, BOX_NW, BOX_SE, BOX_SW };

static void fill_boxes(geohash_search *out, double lon, double lat, int steps) {
    geohash_bits h;
    geohash_encode_wgs84(lon, lat, (uint8_t)steps, &h);
    out->boxes[BOX_C] = h;
    out->boxes[BOX_N] = moved(h, 0, 1);
    out->boxes[BOX_S] = moved(h, 0, -1);
    out->boxes[BOX_E] = moved(h, 1, 0);
    out->boxes[BOX_W] = moved(h, -1, 0);
    out->boxes[BOX_NE] = moved(h, 1, 1);
    out->boxes[BOX_NW] = moved(h, -1, 1);
    out->boxes[BOX_SE] = moved(h, 1, -1);
    out->boxes[BOX_SW] = moved(h, -1, -1);
    geohash_decode(&wgs84_lon, &wgs84_lat, h, &out->area);
}

static void zero_boxes(geohash_search *out, int a, int b, int c) {
    out->boxes[a] = out->boxes[b] = out->boxes[c] = (geohash_bits){0, 0};
}

void geohash_search_area(geo_shape *s, geohash_search *out) {
    bounding_box(s);
    double min_lon = s->bounds[0], min_lat = s->bounds[1], max_lon = s->bounds[2], max_lat = s->bounds[3];
    double lon = s->xy[0], lat = s->xy[1];
    /* A box's reach is its centre-to-corner distance. */
    double radius_m = s->type == GEO_SHAPE_CIRCLE ? s->radius
                                                  : sqrt((s->width / 2) * (s->width / 2) +
                                                         (s->height / 2) * (s->height / 2));
    radius_m *= s->conversion;
    int steps = steps_for_radius(radius_m, lat);
    fill_boxes(out, lon, lat, steps);

    /* The estimated step may leave the area's edge outside the neighbours
     * when the centre is near its cell's border: one step coarser then. */
    geohash_area n, so, e, w;
    geohash_decode(&wgs84_lon, &wgs84_lat, out->boxes[BOX_N], &n);
    geohash_decode(&wgs84_lon, &wgs84_lat, out->boxes[BOX_S], &so);
    geohash_decode(&wgs84_lon, &wgs84_lat, out->boxes[BOX_E], &e);
    geohash_decode(&wgs84_lon, &wgs84_lat, out->boxes[BOX_W], &w);
    bool coarser = n.lat.max < max_lat || so.lat.min > min_lat || e.lon.max < max_lon || w.lon.min > min_lon;
    if (steps > 1 && coarser) {
        steps--;
        fill_boxes(out, lon, lat, steps);
    }

    /* Drop the neighbours the bounding box does not reach. */
    if (steps >= 2) {
        const geohash_area *a = &out->area;
        if (a->lat.min < min_lat) zero_boxes(out, BOX_S, BOX_SW, BOX_SE);
        if (a->lat.max > max_lat) zero_boxes(out, BOX_N, BOX_NE, BOX_NW);
        if (a->lon.min < min_lon) zero_boxes(out, BOX_W, BOX_SW, BOX_NW);
        if (a->lon.max > max_lon) zero_boxes(out, BOX_E, BOX_SE, BOX_NE);
    }
}

/* ------------------------------------------------------------ distances */

/* Along a meridian the haversine reduces to the latitude difference. */
static double lat_distance(double lat1, double lat2) {
    return EARTH_RADIUS_IN_METERS * fabs(deg_to_rad(lat2) - deg_to_rad(lat1));
}

double geohash_distance(double lon1, double lat1, double lon2, double lat2) {
    double lon1r = deg_to_rad(lon1), lon2r = deg_to_rad(lon2);
    double v = sin((lon2r - lon1r) / 2);
    if (v == 0.0) return lat_distance(lat1, lat2);
    double lat1r = deg_to_rad(lat1), lat2r = deg_to_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * EARTH_RADIUS_IN_METERS * asin(sqrt(a));
}

bool geohash_in_shape(const geo_shape *s, const double *xy, double *dist) {
    if (s->type == GEO_SHAPE_CIRCLE) {
        *dist = geohash_distance(s->xy[0], s->xy[1], xy[0], xy[1]);
        return !(*dist > s->radius * s->conversion); /* a NaN distance is inside, as in Redis */
    }
    /* Box: the latitude test first (cheaper), then the longitude distance
     * along the point's own parallel. */
    double width_m = s->width * s->conversion, height_m = s->height * s->conversion;
    if (lat_distance(xy[1], s->xy[1]) > height_m / 2) return false;
    if (geohash_distance(xy[0], xy[1], s->xy[0], xy[1]) > width_m / 2) return false;
    *dist = geohash_distance(s->xy[0], s->xy[1], xy[0], xy[1]);
    return true;
}
