/* TEMPORARY: until the replica side (cluster/repl_cmd.c) merges. */
#include "cluster_api.h"
bool repl_is_replica(void) { return false; }
