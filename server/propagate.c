/*
 * propagate.c - the replication stream side of the write funnel (see
 * propagate.h).
 */
#include "propagate.h"

_Atomic bool propagate_on;
static repl_feed_fn *feed;

void propagate_set_feed(repl_feed_fn *fn) { feed = fn; }
