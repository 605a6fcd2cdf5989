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
/* SWAPDB a b, before the swap (caller holds every slot lock): Redis 7.0's
 * touchAllWatchedKeysInDb both ways. A watcher of a key present in its own
 * database or in the other one is dirtied, except that a key expired when
 * watched stays no change while the other database has it expired too or
 * lacks it, and a missing key replaced by an expired one only becomes
 * expired-when-watched. */
void watch_touch_swap(int a, int b);

#endif
