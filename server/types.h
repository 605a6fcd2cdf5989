/*
 * types.h - start-up registration of the data types (each t_<type>.c
 * registers its entry_type_ops and anything else it needs), called by main
 * before the workers start.
 */
#ifndef TYPES_H
#define TYPES_H

/* Weak while the types are written in parallel: main calls those linked. */
void t_hash_init(void) __attribute__((weak));
void t_list_init(void) __attribute__((weak));
void t_set_init(void) __attribute__((weak));
void t_zset_init(void) __attribute__((weak));

#endif
