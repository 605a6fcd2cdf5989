/*
 * command_samples.h - one or more valid invocations of every command that
 * takes keys, shared by tests/unit/test_command_keys.c (dispatch's keys
 * agree with the key specs) and tests/integration/test_command_introspection.c
 * (COMMAND GETKEYS / GETKEYSANDFLAGS agree with redis-server 7.0).
 *
 * A sample is a line of space-separated words; "double quotes" make one
 * word of what they enclose (no escapes) and "" is an empty word. Both
 * tests fail when a command that takes keys has no sample here, so a new
 * command comes with its line. Keys are named k1, k2, ... so a wrong index
 * shows in the failure message.
 */
#ifndef COMMAND_SAMPLES_H
#define COMMAND_SAMPLES_H

#include <stddef.h>
#include <string.h>

static const char *const command_samples[] = {
    /* strings */
    "append k1 v", "decr k1", "decrby k1 2", "get k1", "getdel k1", "getex k1", "getex k1 EX 10 ",
    "getrange k1 0 -1", "getset k1 v", "incr k1", "incrby k1 2", "incrbyfloat k1 1.5", "mget k1 k2 k3",
    "mset k1 v1 k2 v2", "msetnx k1 v1 k2 v2", "psetex k1 100 v", "set k1 v", "set k1 v GET", "set k1 v EX 10 get",
    "set k1 v NX PX 10", "setex k1 10 v", "setnx k1 v", "setrange k1 0 v", "strlen k1", "substr k1 0 1",
    /* slotcache's own string commands (not in Redis 7.0) */
    "cad k1 v", "cas k1 old new", "cas k1 old new PX 100", "delex k1", "delex k1 IFEQ v", "delifeq k1 v",
    "digest k1",
    /* keyspace */
    "copy k1 k2", "copy k1 k2 DB 1 REPLACE", "del k1", "del k1 k2 k3", "dump k1", "exists k1 k2", "expire k1 10",
    "expire k1 10 NX", "expireat k1 10", "expiretime k1", "move k1 1", "persist k1", "pexpire k1 10",
    "pexpireat k1 10", "pexpiretime k1", "pttl k1", "rename k1 k2", "renamenx k1 k2", "restore k1 0 payload",
    "restore k1 0 payload REPLACE ABSTTL", "restore-asking k1 0 payload", "migrate h 1 k1 0 10",
    "migrate h 1 k1 0 10 COPY REPLACE AUTH pw", "migrate h 1 \"\" 0 10 AUTH2 u pw KEYS k1 k2 k3", "touch k1 k2",
    "ttl k1", "type k1", "unlink k1 k2",
    "object encoding k1", "object freq k1", "object idletime k1", "object refcount k1", "memory usage k1",
    "memory usage k1 SAMPLES 5", "watch k1 k2",
    /* hashes */
    "hdel k1 f1 f2", "hexists k1 f", "hget k1 f", "hgetall k1", "hincrby k1 f 1", "hincrbyfloat k1 f 1.5",
    "hkeys k1", "hlen k1", "hmget k1 f1 f2", "hmset k1 f v", "hrandfield k1 2 WITHVALUES", "hscan k1 0",
    "hset k1 f1 v1 f2 v2", "hsetnx k1 f v", "hstrlen k1 f", "hvals k1",
    /* lists */
    "blmove k1 k2 LEFT RIGHT 0", "blmpop 0 2 k1 k2 LEFT", "blmpop 0 1 k1 RIGHT COUNT 2", "blpop k1 k2 0",
    "brpop k1 0", "brpoplpush k1 k2 0", "lindex k1 0", "linsert k1 BEFORE p v", "llen k1",
    "lmove k1 k2 LEFT LEFT", "lmpop 2 k1 k2 LEFT", "lmpop 1 k1 RIGHT COUNT 3", "lpop k1", "lpop k1 2",
    "lpos k1 v RANK 1", "lpush k1 a b", "lpushx k1 a", "lrange k1 0 -1", "lrem k1 0 v", "lset k1 0 v",
    "ltrim k1 0 1", "rpop k1", "rpoplpush k1 k2", "rpush k1 a b", "rpushx k1 a",
    /* sets */
    "sadd k1 m1 m2", "scard k1", "sdiff k1 k2", "sdiffstore k1 k2 k3", "sinter k1 k2 k3", "sintercard 2 k1 k2",
    "sintercard 1 k1 LIMIT 5", "sinterstore k1 k2", "sismember k1 m", "smembers k1", "smismember k1 m1 m2",
    "smove k1 k2 m", "spop k1", "spop k1 3", "srandmember k1 2", "srem k1 m", "sscan k1 0 MATCH *",
    "sunion k1 k2", "sunionstore k1 k2 k3",
    /* sorted sets */
    "bzmpop 0 2 k1 k2 MIN", "bzpopmax k1 k2 0", "bzpopmin k1 0", "zadd k1 1 a 2 b", "zadd k1 XX CH 1 a",
    "zcard k1", "zcount k1 0 1", "zdiff 2 k1 k2", "zdiff 1 k1 WITHSCORES", "zdiffstore k1 2 k2 k3",
    "zincrby k1 1 m", "zinter 2 k1 k2 WEIGHTS 1 2", "zintercard 2 k1 k2 LIMIT 1",
    "zinterstore k1 2 k2 k3 AGGREGATE MAX", "zlexcount k1 - +", "zmpop 2 k1 k2 MAX COUNT 2", "zmscore k1 a b",
    "zpopmax k1", "zpopmin k1 2", "zrandmember k1 2", "zrange k1 0 -1", "zrange k1 (1 5 BYSCORE LIMIT 0 1",
    "zrangebylex k1 - +", "zrangebyscore k1 0 1", "zrangestore k1 k2 0 -1", "zrank k1 m", "zrem k1 a b",
    "zremrangebylex k1 - +", "zremrangebyrank k1 0 1", "zremrangebyscore k1 0 1", "zrevrange k1 0 -1",
    "zrevrangebylex k1 + -", "zrevrangebyscore k1 1 0", "zrevrank k1 m", "zscan k1 0", "zscore k1 m",
    "zunion 3 k1 k2 k3", "zunionstore k1 2 k2 k3", "zunionstore k1 1 k2 WEIGHTS 2",
    /* scripting: EVAL with no key, one key and two keys */
    "eval \"return 1\" 0", "eval \"return 1\" 0 arg1", "eval \"return 1\" 1 k1",
    "eval \"return redis.call('get', KEYS[1])\" 2 k1 k2 arg1", "eval_ro \"return 1\" 1 k1",
    "eval_ro \"return 1\" 0", "evalsha 0123456789012345678901234567890123456789 2 k1 k2",
    "evalsha 0123456789012345678901234567890123456789 0", "evalsha_ro 0123456789012345678901234567890123456789 1 k1",
    /* hyperloglog */
    "pfadd k1", "pfadd k1 a b", "pfcount k1", "pfcount k1 k2 k3", "pfmerge k1 k2", "pfmerge k1 k2 k3",
    "pfdebug encoding k1", "pfdebug getreg k1",
    /* bitmaps */
    "setbit k1 7 1", "getbit k1 7", "bitcount k1", "bitcount k1 0 -1 BIT", "bitpos k1 1", "bitpos k1 0 1 2 BYTE",
    "bitop AND k1 k2 k3", "bitop NOT k1 k2", "bitfield k1 GET u8 0 SET i4 #1 3", "bitfield k1 GET u8 0 OVERFLOW SAT",
    "bitfield k1 GET u8", "bitfield k1", "bitfield k1 INCRBY u8 0", "bitfield_ro k1 GET u8 0",
    /* geo */
    "geoadd k1 1 1 m", "geoadd k1 NX CH 1 1 m 2 2 n", "geodist k1 a b", "geodist k1 a b km", "geohash k1 a b",
    "geopos k1 a b", "georadius k1 1 1 1 km", "georadius k1 1 1 1 km WITHDIST COUNT 2 ASC",
    "georadius k1 1 1 1 km STORE k2", "georadius k1 1 1 1 km STOREDIST k2", "georadius k1 1 1 1 km STORE k2 STOREDIST k3",
    "georadius_ro k1 1 1 1 km WITHCOORD", "georadiusbymember k1 m 1 km", "georadiusbymember k1 m 1 km STORE k2",
    "georadiusbymember k1 m 1 km COUNT 3 STOREDIST k2", "georadiusbymember_ro k1 m 1 km",
    "geosearch k1 FROMLONLAT 1 1 BYRADIUS 1 km", "geosearch k1 FROMMEMBER m BYBOX 1 1 km ASC COUNT 1 ANY",
    "geosearchstore k1 k2 FROMLONLAT 1 1 BYRADIUS 1 km", "geosearchstore k1 k2 FROMMEMBER m BYBOX 1 1 km STOREDIST",
    /* SORT, SORT_RO, LCS */
    "sort k1", "sort k1 BY w_* LIMIT 0 1 GET # STORE k2", "sort k1 STORE k2 STORE k3", "sort k1 GET store STORE k2",
    "sort_ro k1 BY w_* GET #", "lcs k1 k2", "lcs k1 k2 IDX MINMATCHLEN 2",
    /* streams */
    "xadd k1 * f v", "xadd k1 MAXLEN ~ 10 NOMKSTREAM 1-1 f v", "xdel k1 1-1 2-2", "xlen k1", "xrange k1 - +",
    "xrevrange k1 + - COUNT 2", "xsetid k1 5-0", "xtrim k1 MINID 5", "xinfo stream k1", "xinfo stream k1 FULL",
    "xinfo groups k1", "xinfo consumers k1 g",
    "xread STREAMS k1 0", "xread COUNT 2 BLOCK 10 STREAMS k1 k2 0 $", "xread STREAMS streams k1 0 0",
    "xgroup create k1 g $", "xgroup create k1 g 0 MKSTREAM ENTRIESREAD 3", "xgroup setid k1 g 0",
    "xgroup destroy k1 g", "xgroup createconsumer k1 g c", "xgroup delconsumer k1 g c",
    "xreadgroup GROUP g c STREAMS k1 >", "xreadgroup GROUP g c COUNT 1 BLOCK 10 NOACK STREAMS k1 k2 > 0",
    "xack k1 g 1-1 2-2", "xpending k1 g", "xpending k1 g IDLE 10 - + 10 c", "xclaim k1 g c 0 1-1 JUSTID",
    "xautoclaim k1 g c 0 0 COUNT 5",
};

/* Invocations that make GETKEYS / GETKEYSANDFLAGS answer an error or an
 * edge case; compared with redis-server only (dispatch would reject most). */
static const char *const command_getkeys_edge_samples[] = {
    "nosuchcommand k1",             /* Invalid command specified */
    "config nosuchsub k1",          /* Invalid command specified (unknown subcommand) */
    "config",                       /* a container: no key arguments */
    "config get maxmemory",         /* no key arguments */
    "client kill 1.2.3.4:5",        /* no key arguments */
    "ping hello",                   /* no key arguments */
    "spublish channel message",     /* not_key spec only: no key arguments */
    "ssubscribe c1 c2",             /* same */
    "get k1 k2",                    /* Invalid number of arguments */
    "pfmerge k1",                   /* the destination alone: Redis's key specs give no key, an error */
    "object encoding",              /* Invalid number of arguments (subcommand) */
    "GET k1",                       /* command names are case-insensitive */
    "OBJECT ENCODING k1",
    "eval \"return 1\" 0",          /* no_mandatory_keys: [] */
    "eval \"return 1\" -1",         /* bad count: [] */
    "eval \"return 1\" 5 k1",       /* count past the end: [] */
    "eval \"return 1\" 2abc k1 k2", /* not a number for the key spec, atoi() for Redis's fallback */
    "evalsha_ro abc notanumber",
    "zunionstore k1 0 k2",          /* Invalid arguments specified for command */
    "zunionstore k1 3 k2",
    "zunion 0 k1",
    "lmpop 0 k1 LEFT",
    "lmpop 3 k1 LEFT",
    "blmpop 0 0 k1 LEFT",
    "xread STREAMS k1",             /* unbalanced: no keys */
    "xread COUNT 1 k1 0",           /* no STREAMS */
    "sintercard 0 k1",
    "zmpop 2x k1 k2 MIN",
    "mset k1 v1 k2",                /* range with a step past the end */
    "set k1 v get",                 /* GET in any case */
    "set k1 v NX",
    "set k1 get",
    "sort k1 STORE",                /* STORE without its key: the key alone */
    "sort k1 LIMIT 0 STORE k2",     /* LIMIT skips two words, STORE's among them */
    "sort k1 BY STORE k2",          /* BY skips one */
    "sort_ro k1 STORE k2",
    "setex k1 10",
    "memory usage",
    "del",
};

#define COMMAND_SAMPLES_COUNT (sizeof command_samples / sizeof command_samples[0])
#define COMMAND_GETKEYS_EDGE_COUNT (sizeof command_getkeys_edge_samples / sizeof command_getkeys_edge_samples[0])

/* Split a sample line into at most `max` words (pointers into `buf`, a
 * copy of the line the caller provides, at least strlen(line)+1 bytes);
 * returns the word count and fills lens[]. */
static inline int command_sample_split(const char *line, char *buf, const char **words, size_t *lens, int max) {
    int n = 0;
    strcpy(buf, line);
    char *p = buf;
    while (*p && n < max) {
        while (*p == ' ') p++;
        if (!*p) break;
        char *start, *end;
        if (*p == '"') {
            start = ++p;
            while (*p && *p != '"') p++;
            end = p;
            if (*p) p++;
        } else {
            start = p;
            while (*p && *p != ' ') p++;
            end = p;
            if (*p) p++;
        }
        *end = '\0';
        words[n] = start;
        lens[n] = (size_t)(end - start);
        n++;
    }
    return n;
}

#endif
