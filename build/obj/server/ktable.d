build/obj/server/ktable.o: server/ktable.c server/ktable.h server/entry.h \
 server/mem.h
server/ktable.h:
server/entry.h:
server/mem.h:
