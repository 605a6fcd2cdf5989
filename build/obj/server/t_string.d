build/obj/server/t_string.o: server/t_string.c server/client.h \
 proto/resp_parse.h proto/resp_write.h server/command_modules.h \
 server/commands.h server/config.h server/db.h server/entry.h \
 server/ktable.h server/mem.h proto/numparse.h
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/command_modules.h:
server/commands.h:
server/config.h:
server/db.h:
server/entry.h:
server/ktable.h:
server/mem.h:
proto/numparse.h:
