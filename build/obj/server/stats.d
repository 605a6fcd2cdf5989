build/obj/server/stats.o: server/stats.c server/stats.h
server/stats.h:
