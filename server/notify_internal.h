/*
 * notify_internal.h - raising a keyspace event: for the write funnel
 * (db.c) only, so that no event is raised apart from the change it
 * reports. Other modules state changes through db.h (db_changed).
 */
#ifndef NOTIFY_INTERNAL_H
#define NOTIFY_INTERNAL_H

#include "config.h"
#include "db.h"
#include "notify.h"

/* Queue the notification without checking the configuration (notify.c;
 * called by notify_keyspace_event once the class is known enabled). */
void notify_queue_event(int type, const char *event, const dbkey *k);

/* Queue the notification for event `event` of class `type` on key k, to be
 * sent by notify_flush. When notifications are off this is one relaxed
 * load, inlined into the funnel. */
static inline void notify_keyspace_event(int type, const char *event, const dbkey *k) {
    long long flags = cfg_get(notify_keyspace_events);
    if ((flags & type) && (flags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT))) notify_queue_event(type, event, k);
}

#endif
