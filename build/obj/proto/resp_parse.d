build/obj/proto/resp_parse.o: proto/resp_parse.c proto/resp_parse.h \
 proto/numparse.h proto/proto_alloc.h
proto/resp_parse.h:
proto/numparse.h:
proto/proto_alloc.h:
