/*
 * t_list.h - what other modules need from the list type (t_list.c): the
 * node fill a new list gets from list-max-listpack-size (the RDB loader
 * builds lists with it), and storing a list built elsewhere (SORT ... STORE).
 */
#ifndef T_LIST_H
#define T_LIST_H

#include "db.h"
#include "quicklist.h"

/* list-max-listpack-size as configured now, clamped to the quicklist's
 * range. */
int list_fill_from_config(void);

/* Set k (its slot locked) to the list ql (not empty; the entry owns it from
 * here), replacing any value and its TTL, and state the change through the
 * write funnel with `event` (SORT ... STORE: "sortstore"). */
void list_store(const dbkey *k, quicklist *ql, const char *event);

#endif
