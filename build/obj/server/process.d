build/obj/server/process.o: server/process.c server/process.h \
 server/config.h
server/process.h:
server/config.h:
