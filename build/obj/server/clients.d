build/obj/server/clients.o: server/clients.c server/clients.h \
 server/client.h proto/resp_parse.h proto/resp_write.h server/commands.h \
 server/db.h server/entry.h server/ktable.h server/mem.h server/worker.h \
 server/inbox.h
server/clients.h:
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/commands.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/mem.h:
server/worker.h:
server/inbox.h:
