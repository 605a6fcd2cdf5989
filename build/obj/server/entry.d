build/obj/server/entry.o: server/entry.c server/entry.h server/mem.h \
 proto/numparse.h
server/entry.h:
server/mem.h:
proto/numparse.h:
