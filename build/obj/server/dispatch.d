build/obj/server/dispatch.o: server/dispatch.c server/dispatch.h \
 server/client.h proto/resp_parse.h proto/resp_write.h server/clients.h \
 server/commands.h server/config.h proto/crc16.h server/db.h \
 server/entry.h server/ktable.h server/mem.h server/slotlock.h \
 server/slowlog.h server/stats.h
server/dispatch.h:
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/clients.h:
server/commands.h:
server/config.h:
proto/crc16.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/mem.h:
server/slotlock.h:
server/slowlog.h:
server/stats.h:
