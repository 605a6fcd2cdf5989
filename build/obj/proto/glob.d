build/obj/proto/glob.o: proto/glob.c proto/glob.h
proto/glob.h:
