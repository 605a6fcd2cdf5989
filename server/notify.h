/*
 * notify.h - keyspace notifications (notify-keyspace-events): the event
 * classes and the sending of queued events.
 *
 * Events are raised by the write funnel only (db.c: db_changed and its
 * siblings for the changes commands make, db_add's "new", the server's own
 * "expired" / "evicted", db_lookup's "keymiss"; see db.h): a handler names
 * the class and event of its change there, never publishes itself. When the
 * class is enabled, a message is published on __keyspace@<db>__:<key> (K)
 * and/or __keyevent@<db>__:<event> (E) through pubsub.
 *
 * Publishing posts to other workers' inboxes (a syscall), so while a slot
 * lock is held the events are queued on the thread and sent by dispatch
 * after the command's locks are released (notify_flush()).
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/* Redis's flag bits (also the storage of cfg.notify_keyspace_events); a
 * change's class is one of GENERIC .. STREAM. */
enum {
    NOTIFY_KEYSPACE = 1 << 0,  /* K */
    NOTIFY_KEYEVENT = 1 << 1,  /* E */
    NOTIFY_GENERIC = 1 << 2,   /* g */
    NOTIFY_STRING = 1 << 3,    /* $ */
    NOTIFY_LIST = 1 << 4,      /* l */
    NOTIFY_SET = 1 << 5,       /* s */
    NOTIFY_HASH = 1 << 6,      /* h */
    NOTIFY_ZSET = 1 << 7,      /* z */
    NOTIFY_EXPIRED = 1 << 8,   /* x */
    NOTIFY_EVICTED = 1 << 9,   /* e */
    NOTIFY_STREAM = 1 << 10,   /* t */
    NOTIFY_KEY_MISS = 1 << 11, /* m */
    NOTIFY_LOADED = 1 << 12,
    NOTIFY_MODULE = 1 << 13,   /* d */
    NOTIFY_NEW = 1 << 14,      /* n */
};

/* Send the queued notifications of this thread (dispatch, the expire cycle
 * and eviction, after their slot locks are released). */
void notify_flush(void);

#endif
