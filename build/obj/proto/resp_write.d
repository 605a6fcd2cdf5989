build/obj/proto/resp_write.o: proto/resp_write.c proto/resp_write.h \
 proto/numparse.h proto/proto_alloc.h
proto/resp_write.h:
proto/numparse.h:
proto/proto_alloc.h:
