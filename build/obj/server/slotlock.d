build/obj/server/slotlock.o: server/slotlock.c server/slotlock.h
server/slotlock.h:
