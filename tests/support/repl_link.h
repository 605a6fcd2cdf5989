/*
 * repl_link.h - test support: attach to a server as a replica over a raw
 * socket and read its replication stream command by command.
 *
 * repl_link_open sends REPLCONF capa eof capa psync2 and PSYNC ? -1 (falling
 * back to the old SYNC when PSYNC is refused), skips the keepalive newlines
 * a master sends while it prepares the RDB, reads and discards the RDB in
 * either form ("$<len>\r\n<bytes>" or diskless "$EOF:<40-byte mark>\r\n
 * <bytes><mark>"), then sends REPLCONF ACK (a diskless master starts the
 * command stream only on an ACK received after it saw the transfer end, so
 * until the first byte of the stream arrives an ACK is repeated every 20 ms
 * of waiting, as a real replica's once-a-second ACK would). From then on
 * repl_link_next returns the stream's commands as argument vectors.
 *
 * Nothing in here asserts: failures come back as false plus a message, so
 * a test can tell "the server does not serve replicas" from a broken stream.
 */
#ifndef REPL_LINK_H
#define REPL_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "server_proc.h"

/* One command of the stream. */
typedef struct repl_op {
    int argc;
    char **argv;   /* each NUL-terminated (may also contain NULs: use len) */
    size_t *len;
} repl_op;

/* Growable list of commands. */
typedef struct repl_ops {
    repl_op *v;
    int n, cap;
} repl_ops;

typedef struct repl_link {
    int fd;
    sc_buf in;
    size_t pos;             /* consumed bytes of in */
    bool psync;             /* attached with PSYNC (else SYNC) */
    char replid[64];        /* from +FULLRESYNC, "" with SYNC */
    long long offset;       /* from +FULLRESYNC, -1 with SYNC */
    size_t rdb_bytes;       /* size of the RDB payload read */
    bool streaming;         /* a byte of the command stream has arrived */
    long long last_ack_ms;  /* when REPLCONF ACK was last sent */
    long long stream_bytes; /* bytes of the command stream consumed so far */
    char err[200];          /* why repl_link_next last returned false */
} repl_link;

/* Attach to 127.0.0.1:port as a replica. On failure returns false, closes
 * everything and writes a description in err; *refused is set when the
 * server answered the handshake with an error reply (it does not serve
 * replicas), as opposed to a broken or silent connection. */
bool repl_link_open(repl_link *l, int port, int timeout_ms, char *err, size_t errlen, bool *refused);
void repl_link_close(repl_link *l);

/* Next command of the stream within timeout_ms (scaled); false on timeout,
 * EOF or malformed data (then *op is empty and l->err says which). Stray
 * newlines are skipped. */
bool repl_link_next(repl_link *l, repl_op *op, int timeout_ms);

void repl_op_free(repl_op *op);
/* Deep copy of argv[0..argc). */
void repl_op_make(repl_op *op, int argc, const char *const *argv, const size_t *len);
/* argv[0] equals name, ignoring case. */
bool repl_op_is(const repl_op *op, const char *name);
/* Append "[arg arg ...]": printable args as they are, others escaped
 * (\xNN), args over 64 bytes as "<N bytes>". */
void repl_op_format(const repl_op *op, sc_buf *out);

/* Push takes ownership of *op (left empty). */
void repl_ops_push(repl_ops *ops, repl_op *op);
void repl_ops_pop(repl_ops *ops);
void repl_ops_clear(repl_ops *ops);
/* One op a line, each prefixed by `indent`; "(nothing)" when empty. */
void repl_ops_format(const repl_ops *ops, const char *indent, sc_buf *out);

#endif
