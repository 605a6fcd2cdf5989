build/obj/server/db.o: server/db.c server/db.h server/entry.h \
 server/ktable.h proto/crc16.h server/mem.h server/slotlock.h \
 server/stats.h
server/db.h:
server/entry.h:
server/ktable.h:
proto/crc16.h:
server/mem.h:
server/slotlock.h:
server/stats.h:
