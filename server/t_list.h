/*
 * t_list.h - what other modules need from the list type (t_list.c): the
 * node fill a new list gets from list-max-listpack-size (the RDB loader
 * builds lists with it).
 */
#ifndef T_LIST_H
#define T_LIST_H

/* list-max-listpack-size as configured now, clamped to the quicklist's
 * range. */
int list_fill_from_config(void);

#endif
