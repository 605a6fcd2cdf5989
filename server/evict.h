/*
 * evict.h - maxmemory: the LRU/LFU bits of entries and eviction.
 *
 * Every entry has 24 bits that hold, depending on maxmemory-policy, either
 * Redis's LRU clock (seconds) or its LFU pair (16-bit minutes, 8-bit
 * logarithmic counter). Before a command flagged denyoom runs, the worker
 * evicts keys chosen by the policy until used memory is under maxmemory, or
 * the command is refused with Redis's OOM error.
 */
#ifndef EVICT_H
#define EVICT_H

#include "client.h"
#include "entry.h"

#include <stdbool.h>
#include <stdint.h>

#define LFU_INIT_VAL 5

bool evict_policy_is_lfu(void);
bool evict_policy_is_lru(void);
/* The 24-bit field for a new entry (LFU: now + LFU_INIT_VAL; LRU: clock). */
uint32_t evict_initial_field(void);
/* An access: refresh the LRU clock, or decay and log-increment the LFU
 * counter. */
void evict_touch(entry *e);
/* Set the LFU counter with the current minutes (RESTORE ... FREQ). */
void evict_set_lfu(entry *e, unsigned counter);
/* Redis's objectSetLRUOrLFU (RESTORE IDLETIME/FREQ, an RDB's IDLE/FREQ):
 * under an LFU policy set the counter to freq, under the others set the
 * LRU clock idle_s seconds back; -1 = not given. */
void evict_set_idle_or_freq(entry *e, long long idle_s, long long freq);
/* LFU counter after decay (OBJECT FREQ). */
unsigned evict_lfu_counter(const entry *e);

/* Before a denyoom command (no slot lock held): evict until under the
 * limit. Returns false after replying the OOM error. */
bool evict_make_room_or_reply(client *c);
/* Evict until used memory <= maxmemory, at most `max_keys` keys (CONFIG SET
 * maxmemory lowering it, or the cron). Returns keys evicted. */
long evict_until_under(long max_keys);
/* Free this thread's candidate pool (a worker exiting). */
void evict_thread_cleanup(void);

/* How many times a command had to make room (a counter for the cron). */
unsigned long evict_command_runs(void);

#endif
