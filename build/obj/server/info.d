build/obj/server/info.o: server/info.c server/info.h server/client.h \
 proto/resp_parse.h proto/resp_write.h server/clients.h server/commands.h \
 server/config.h server/db.h server/entry.h server/ktable.h server/mem.h \
 server/process.h server/stats.h
server/info.h:
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/clients.h:
server/commands.h:
server/config.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/mem.h:
server/process.h:
server/stats.h:
