build/obj/server/inbox.o: server/inbox.c server/inbox.h server/mem.h
server/inbox.h:
server/mem.h:
