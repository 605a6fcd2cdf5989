/*
 * dispatch.h - running one parsed command for a client: lookup, arity and
 * auth checks, slot locking from the key spec, the handler, statistics and
 * the slow log.
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include "client.h"

/* Run c->argv/c->argc. The reply goes to the client's reply buffer. */
void dispatch_command(client *c);

#endif
