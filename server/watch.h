/*
 * watch.h - WATCH / UNWATCH state and its invalidation. A watched key is
 * registered in its slot's watch list (guarded by the slot lock); every
 * write to a key (db_changed) marks the clients watching it dirty, from
 * whatever worker the write runs on; EXEC of a dirty client aborts.
 */
#ifndef WATCH_H
#define WATCH_H

#include "client.h"
#include "db.h"

/* Add k to c's watched keys (caller holds k's slot lock). */
void watch_key(client *c, const dbkey *k);
/* Drop all of c's watches (locks their slots one at a time; call with no
 * slot lock held). */
void watch_unwatch_all(client *c);
/* Append the slots of c's watched keys to slots[*n] (EXEC locks them). */
void watch_collect_slots(client *c, unsigned **slots, int *n, int *cap);
/* A key c watches, live when watched, is now logically expired (Redis
 * 7.0's isWatchedKeyExpired): EXEC aborts. Caller holds the slots of all
 * of c's watched keys. */
bool watch_any_expired(client *c);
/* A write to k (caller holds k's slot lock). */
void watch_touch_key(const dbkey *k);
/* FLUSHDB / FLUSHALL (db -1 = all): every watcher of that database. */
void watch_touch_db(int db);

#endif
