build/obj/proto/proto_alloc.o: proto/proto_alloc.c proto/proto_alloc.h
proto/proto_alloc.h:
