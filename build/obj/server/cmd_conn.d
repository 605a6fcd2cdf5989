build/obj/server/cmd_conn.o: server/cmd_conn.c server/client.h \
 proto/resp_parse.h proto/resp_write.h server/clients.h \
 server/command_modules.h server/commands.h server/config.h server/db.h \
 server/entry.h server/ktable.h proto/numparse.h server/process.h
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/clients.h:
server/command_modules.h:
server/commands.h:
server/config.h:
server/db.h:
server/entry.h:
server/ktable.h:
proto/numparse.h:
server/process.h:
