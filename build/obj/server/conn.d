build/obj/server/conn.o: server/conn.c server/client.h proto/resp_parse.h \
 proto/resp_write.h server/clients.h server/config.h server/db.h \
 server/entry.h server/ktable.h server/dispatch.h server/log.h \
 server/mem.h proto/numparse.h proto/proto_alloc.h server/stats.h \
 server/worker.h server/inbox.h
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/clients.h:
server/config.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/dispatch.h:
server/log.h:
server/mem.h:
proto/numparse.h:
proto/proto_alloc.h:
server/stats.h:
server/worker.h:
server/inbox.h:
