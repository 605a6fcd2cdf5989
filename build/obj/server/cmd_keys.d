build/obj/server/cmd_keys.o: server/cmd_keys.c server/client.h \
 proto/resp_parse.h proto/resp_write.h server/command_modules.h \
 server/commands.h server/config.h proto/crc16.h server/db.h \
 server/entry.h server/ktable.h proto/glob.h server/mem.h \
 proto/numparse.h server/slotlock.h
server/client.h:
proto/resp_parse.h:
proto/resp_write.h:
server/command_modules.h:
server/commands.h:
server/config.h:
proto/crc16.h:
server/db.h:
server/entry.h:
server/ktable.h:
proto/glob.h:
server/mem.h:
proto/numparse.h:
server/slotlock.h:
