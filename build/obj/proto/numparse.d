build/obj/proto/numparse.o: proto/numparse.c proto/numparse.h \
 proto/proto_alloc.h
proto/numparse.h:
proto/proto_alloc.h:
