/*
 * bus.c - placeholder for the cluster bus thread (bus.h) until the bus
 * lands: cluster mode then runs as a single node that talks to no peer.
 */
#include "bus.h"

int bus_start(void) { return 0; }
void bus_stop(void) {}
void bus_wake(void) {}
