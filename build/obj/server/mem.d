build/obj/server/mem.o: server/mem.c server/mem.h proto/proto_alloc.h
server/mem.h:
proto/proto_alloc.h:
