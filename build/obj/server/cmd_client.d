build/obj/server/cmd_client.o: server/cmd_client.c server/client.h \
 proto/resp_parse.h proto/resp_write.h server/clients.h \
 server/command_modules.h server/commands.h server/db.h server/entry.h \
 server/ktable.h server/mem.h proto/numparse.h
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/clients.h:
server/command_modules.h:
server/commands.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/mem.h:
proto/numparse.h:
