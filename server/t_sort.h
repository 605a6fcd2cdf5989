/*
 * t_sort.h - what SORT's module (t_sort.c) offers others: the argument index
 * of SORT's STORE destination as Redis's key finder reads it (dispatch's
 * key list and COMMAND GETKEYS both use it).
 */
#ifndef T_SORT_H
#define T_SORT_H

#include "client.h"

/* argv index of the destination of SORT ... STORE dst (the last STORE, as
 * Redis's sortGetKeys finds it), 0 when there is none. */
int sort_store_arg(const arg_t *argv, int argc);

#endif
