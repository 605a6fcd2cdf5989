build/obj/server/cmd_expire.o: server/cmd_expire.c server/client.h \
 proto/resp_parse.h proto/resp_write.h server/command_modules.h \
 server/commands.h server/db.h server/entry.h server/ktable.h \
 server/mem.h
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/command_modules.h:
server/commands.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/mem.h:
