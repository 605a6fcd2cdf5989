build/obj/proto/crc16.o: proto/crc16.c proto/crc16.h
proto/crc16.h:
