build/obj/server/cmd_command.o: server/cmd_command.c server/client.h \
 proto/resp_parse.h proto/resp_write.h server/command_modules.h \
 server/commands.h proto/glob.h server/mem.h
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/command_modules.h:
server/commands.h:
proto/glob.h:
server/mem.h:
