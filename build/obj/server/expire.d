build/obj/server/expire.o: server/expire.c server/expire.h \
 server/config.h proto/crc16.h server/db.h server/entry.h server/ktable.h \
 server/slotlock.h server/stats.h server/worker.h server/inbox.h
server/expire.h:
server/config.h:
proto/crc16.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/slotlock.h:
server/stats.h:
server/worker.h:
server/inbox.h:
