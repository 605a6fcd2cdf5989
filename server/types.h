/*
 * types.h - start-up registration of the data types (each t_<type>.c
 * registers its entry_type_ops and anything else it needs), called by main
 * before the workers start.
 */
#ifndef TYPES_H
#define TYPES_H

void t_hash_init(void);
void t_list_init(void);
void t_set_init(void);
void t_zset_init(void);
void t_stream_init(void);

#endif
