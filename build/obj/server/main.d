build/obj/server/main.o: server/main.c server/clients.h server/client.h \
 proto/resp_parse.h proto/resp_write.h server/commands.h server/config.h \
 server/db.h server/entry.h server/ktable.h server/log.h server/mem.h \
 server/process.h server/slowlog.h server/stats.h server/worker.h \
 server/inbox.h
server/clients.h:
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/commands.h:
server/config.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/log.h:
server/mem.h:
server/process.h:
server/slowlog.h:
server/stats.h:
server/worker.h:
server/inbox.h:
