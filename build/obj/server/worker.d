build/obj/server/worker.o: server/worker.c server/worker.h server/inbox.h \
 server/client.h proto/resp_parse.h proto/resp_write.h server/config.h \
 server/db.h server/entry.h server/ktable.h server/expire.h server/log.h \
 server/mem.h server/stats.h
server/worker.h:
server/inbox.h:
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/config.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/expire.h:
server/log.h:
server/mem.h:
server/stats.h:
