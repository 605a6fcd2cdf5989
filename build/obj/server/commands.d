build/obj/server/commands.o: server/commands.c server/commands.h \
 server/client.h proto/resp_parse.h proto/resp_write.h \
 server/command_modules.h server/mem.h
server/commands.h:
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/command_modules.h:
server/mem.h:
