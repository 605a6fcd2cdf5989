/*
 * bus_msg.h - Redis 7.0's cluster bus messages ("RCmb", protocol version 1),
 * byte for byte: the fixed-layout header and payloads with every size and
 * offset pinned by static_assert, big-endian helpers, an encoder and the
 * receiver's checks. No I/O and no cluster state: the bus (bus*.c,
 * gossip.c) fills a bus_msg_self from the state and hands received bytes
 * here. bus_msg.c uses libc only.
 *
 * Every multi-byte integer on the wire is big-endian; the structs below
 * hold wire bytes (read them through be16/be32/be64). Buffers given to
 * these functions must be 8-byte aligned (malloc'd), as every payload
 * offset is a multiple of 8. The one exception Redis makes: a MODULE
 * message's module_id is copied as the module gave it.
 *
 * Capabilities (CLUSTER-WIRE.md 2.4): the 30 reserved header bytes
 * (notused1) may carry "SLCB", a version byte and a capability mask. Redis
 * 7.0 and Valkey zero-fill and ignore them. The encoder writes them only
 * when bus_msg_self.caps is non-zero; the bus sends 0 today, so every
 * message is the exact bytes a redis-server 7.0 node would send.
 */
#ifndef BUS_MSG_H
#define BUS_MSG_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotmap.h" /* CLUSTER_SLOTS, CLUSTER_NAMELEN */

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bus_msg.h assumes a little-endian host (be16/be32/be64 swap)"
#endif

#define BUS_PROTO_VER 1
#define BUS_IPLEN 46 /* NET_IP_STR_LEN */
#define BUS_SLOT_BYTES (CLUSTER_SLOTS / 8)

/* Message types (CLUSTERMSG_TYPE_*). */
enum {
    BUS_PING = 0,
    BUS_PONG = 1,
    BUS_MEET = 2,
    BUS_FAIL = 3,
    BUS_PUBLISH = 4,
    BUS_FAILOVER_AUTH_REQUEST = 5,
    BUS_FAILOVER_AUTH_ACK = 6,
    BUS_UPDATE = 7,
    BUS_MFSTART = 8,
    BUS_MODULE = 9,
    BUS_PUBLISHSHARD = 10,
    BUS_TYPE_COUNT = 11
};

/* Node flags as they travel in headers and gossip (CLUSTER_NODE_*). */
enum {
    BUS_NODE_MASTER = 1,
    BUS_NODE_SLAVE = 2,
    BUS_NODE_PFAIL = 4,
    BUS_NODE_FAIL = 8,
    BUS_NODE_MYSELF = 16,
    BUS_NODE_HANDSHAKE = 32,
    BUS_NODE_NOADDR = 64,
    BUS_NODE_MEET = 128,
    BUS_NODE_MIGRATE_TO = 256,
    BUS_NODE_NOFAILOVER = 512
};

/* mflags[0] bits (CLUSTERMSG_FLAG0_*). */
enum {
    BUS_MFLAG0_PAUSED = 1 << 0,
    BUS_MFLAG0_FORCEACK = 1 << 1,
    BUS_MFLAG0_EXT_DATA = 1 << 2
};

/* Ping extension types (7.0 knows HOSTNAME only). */
enum { BUS_EXT_HOSTNAME = 0 };

/* The header: 2256 bytes before the payload (CLUSTERMSG_MIN_LEN). */
typedef struct bus_msg_hdr {
    char sig[4];            /* "RCmb" */
    uint32_t totlen;        /* the whole message */
    uint16_t ver;           /* BUS_PROTO_VER */
    uint16_t port;          /* client port (announced) */
    uint16_t type;
    uint16_t count;         /* gossip entries (PING/PONG/MEET) */
    uint64_t current_epoch;
    uint64_t config_epoch;  /* its master's for a replica */
    uint64_t offset;        /* replication offset */
    char sender[CLUSTER_NAMELEN];
    uint8_t myslots[BUS_SLOT_BYTES]; /* its master's for a replica */
    char slaveof[CLUSTER_NAMELEN];   /* zeros for a master */
    char myip[BUS_IPLEN];   /* zeros: "use the socket's peer address" */
    uint16_t extensions;    /* ping extensions that follow the gossip */
    char notused1[30];      /* reserved; see "Capabilities" above */
    uint16_t pport;         /* plaintext port when port is TLS, else 0 */
    uint16_t cport;         /* bus port */
    uint16_t flags;         /* sender's flags, MYSELF included */
    uint8_t state;          /* 0 ok, 1 fail */
    uint8_t mflags[3];
} bus_msg_hdr;

#define BUS_HDR_LEN 2256u

static_assert(offsetof(bus_msg_hdr, sig) == 0, "sig");
static_assert(offsetof(bus_msg_hdr, totlen) == 4, "totlen");
static_assert(offsetof(bus_msg_hdr, ver) == 8, "ver");
static_assert(offsetof(bus_msg_hdr, port) == 10, "port");
static_assert(offsetof(bus_msg_hdr, type) == 12, "type");
static_assert(offsetof(bus_msg_hdr, count) == 14, "count");
static_assert(offsetof(bus_msg_hdr, current_epoch) == 16, "currentEpoch");
static_assert(offsetof(bus_msg_hdr, config_epoch) == 24, "configEpoch");
static_assert(offsetof(bus_msg_hdr, offset) == 32, "offset");
static_assert(offsetof(bus_msg_hdr, sender) == 40, "sender");
static_assert(offsetof(bus_msg_hdr, myslots) == 80, "myslots");
static_assert(offsetof(bus_msg_hdr, slaveof) == 2128, "slaveof");
static_assert(offsetof(bus_msg_hdr, myip) == 2168, "myip");
static_assert(offsetof(bus_msg_hdr, extensions) == 2214, "extensions");
static_assert(offsetof(bus_msg_hdr, notused1) == 2216, "notused1");
static_assert(offsetof(bus_msg_hdr, pport) == 2246, "pport");
static_assert(offsetof(bus_msg_hdr, cport) == 2248, "cport");
static_assert(offsetof(bus_msg_hdr, flags) == 2250, "flags");
static_assert(offsetof(bus_msg_hdr, state) == 2252, "state");
static_assert(offsetof(bus_msg_hdr, mflags) == 2253, "mflags");
static_assert(sizeof(bus_msg_hdr) == BUS_HDR_LEN, "header size");

/* One gossip entry of PING / PONG / MEET (clusterMsgDataGossip). */
typedef struct bus_msg_gossip {
    char nodename[CLUSTER_NAMELEN];
    uint32_t ping_sent;     /* seconds */
    uint32_t pong_received; /* seconds */
    char ip[BUS_IPLEN];
    uint16_t port;
    uint16_t cport;
    uint16_t flags;
    uint16_t pport;
    uint16_t notused1;
} bus_msg_gossip;

static_assert(offsetof(bus_msg_gossip, nodename) == 0, "gossip nodename");
static_assert(offsetof(bus_msg_gossip, ping_sent) == 40, "gossip ping_sent");
static_assert(offsetof(bus_msg_gossip, pong_received) == 44, "gossip pong_received");
static_assert(offsetof(bus_msg_gossip, ip) == 48, "gossip ip");
static_assert(offsetof(bus_msg_gossip, port) == 94, "gossip port");
static_assert(offsetof(bus_msg_gossip, cport) == 96, "gossip cport");
static_assert(offsetof(bus_msg_gossip, flags) == 98, "gossip flags");
static_assert(offsetof(bus_msg_gossip, pport) == 100, "gossip pport");
static_assert(offsetof(bus_msg_gossip, notused1) == 102, "gossip notused1");
static_assert(sizeof(bus_msg_gossip) == 104, "gossip size");

/* FAIL: the failing node. */
typedef struct bus_msg_fail {
    char nodename[CLUSTER_NAMELEN];
} bus_msg_fail;
static_assert(sizeof(bus_msg_fail) == 40, "fail size");

/* PUBLISH / PUBLISHSHARD: two lengths, then channel and message bytes. */
typedef struct bus_msg_publish {
    uint32_t channel_len;
    uint32_t message_len;
    /* uint8_t bulk_data[channel_len + message_len] */
} bus_msg_publish;
static_assert(offsetof(bus_msg_publish, message_len) == 4, "publish message_len");
static_assert(sizeof(bus_msg_publish) == 8, "publish size");

/* UPDATE: a node's slots under its configEpoch. */
typedef struct bus_msg_update {
    uint64_t config_epoch;
    char nodename[CLUSTER_NAMELEN];
    uint8_t slots[BUS_SLOT_BYTES];
} bus_msg_update;
static_assert(offsetof(bus_msg_update, nodename) == 8, "update nodename");
static_assert(offsetof(bus_msg_update, slots) == 48, "update slots");
static_assert(sizeof(bus_msg_update) == 2096, "update size");

/* MODULE: 13 bytes, then the payload (Redis's struct has 3 placeholder
 * bytes after type; the message length counts 13 + len). */
typedef struct bus_msg_module {
    uint64_t module_id; /* not byte-swapped */
    uint32_t len;
    uint8_t type;
    /* uint8_t bulk_data[len] */
} bus_msg_module;
#define BUS_MODULE_FIXED 13u
static_assert(offsetof(bus_msg_module, len) == 8, "module len");
static_assert(offsetof(bus_msg_module, type) == 12, "module type");

/* A ping extension's header; length counts these 8 bytes and the data,
 * which is padded to a multiple of 8. */
typedef struct bus_msg_ext {
    uint32_t length;
    uint16_t type;
    uint16_t unused;
} bus_msg_ext;
static_assert(sizeof(bus_msg_ext) == 8, "extension header size");

/* Exact lengths of the fixed-size messages. */
#define BUS_FAIL_LEN (BUS_HDR_LEN + 40u)     /* 2296 */
#define BUS_UPDATE_LEN (BUS_HDR_LEN + 2096u) /* 4352 = sizeof(clusterMsg) */
static_assert(BUS_FAIL_LEN == 2296, "FAIL length");
static_assert(BUS_UPDATE_LEN == 4352, "UPDATE length");

/* Capability advertisement inside notused1: "SLCB", version, then a
 * big-endian u32 mask at notused1 + 5. */
#define BUS_CAPS_MAGIC "SLCB"
#define BUS_CAPS_VERSION 1

/* ---- big-endian helpers ---- */

static inline uint16_t be16(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }
static inline uint64_t be64(uint64_t v) { return __builtin_bswap64(v); }

/* Slot bitmaps (myslots, UPDATE) as Redis lays them out: slot s is bit
 * (s & 7) of byte s / 8, least significant bit first. */
static inline bool bus_slot_test(const uint8_t *bm, int slot) {
    return (bm[slot >> 3] >> (slot & 7)) & 1;
}
static inline void bus_slot_set(uint8_t *bm, int slot) { bm[slot >> 3] |= (uint8_t)(1u << (slot & 7)); }
static inline void bus_slot_clear(uint8_t *bm, int slot) { bm[slot >> 3] &= (uint8_t)~(1u << (slot & 7)); }

/* ---- encoding ---- */

/* What a header says about its sender (clusterBuildMessageHdr). The bus
 * fills it from the cluster state under cluster_lock(). */
typedef struct bus_msg_self {
    char name[CLUSTER_NAMELEN];
    uint16_t flags;             /* myself's flags, MYSELF included */
    uint64_t current_epoch;
    uint64_t config_epoch;      /* its master's for a replica */
    uint64_t offset;            /* master_repl_offset, or a replica's processed offset */
    const uint8_t *slots;       /* BUS_SLOT_BYTES: its master's for a replica; NULL = none */
    bool has_master;
    char slaveof[CLUSTER_NAMELEN];
    char myip[BUS_IPLEN];       /* cluster-announce-ip, or "" */
    uint16_t port, pport, cport;
    uint8_t state;              /* 0 ok, 1 fail */
    bool paused;                /* a master in manual failover: mflags PAUSED */
    const char *hostname;       /* cluster-announce-hostname, NULL or "" for none */
    uint32_t caps;              /* 0: notused1 stays zero (a plain 7.0 header) */
} bus_msg_self;

/* What a gossip entry says about a node (clusterSetGossipEntry). */
typedef struct bus_msg_node_info {
    const char *name;           /* CLUSTER_NAMELEN bytes */
    long long ping_sent_ms, pong_received_ms;
    const char *ip;             /* NUL-terminated */
    uint16_t port, cport, pport;
    uint16_t flags;
} bus_msg_node_info;

/* Fill the header of a `type` message (zeroing it first). totlen is set to
 * BUS_HDR_LEN, or the full length of FAIL and UPDATE; the builders below
 * set the real length of the others. */
void bus_msg_hdr_init(bus_msg_hdr *h, const bus_msg_self *self, uint16_t type);

/* PING / PONG / MEET with `count` gossip entries and the HOSTNAME
 * extension when self->hostname is non-empty. bus_msg_ping_len gives the
 * size; bus_msg_ping writes the header, zeroes the gossip entries (fill
 * entry i with bus_msg_gossip_set(bus_msg_gossip_at(buf, i), ...)) and
 * writes the extension after them. Returns the total length. */
size_t bus_msg_ping_len(uint16_t count, const char *hostname);
size_t bus_msg_ping(void *buf, const bus_msg_self *self, uint16_t type, uint16_t count);
static inline bus_msg_gossip *bus_msg_gossip_at(void *buf, unsigned i) {
    return (bus_msg_gossip *)((char *)buf + BUS_HDR_LEN) + i;
}
void bus_msg_gossip_set(bus_msg_gossip *g, const bus_msg_node_info *n);

/* FAIL about `nodename`: BUS_FAIL_LEN bytes into buf. */
size_t bus_msg_fail_build(void *buf, const bus_msg_self *self, const char *nodename);
/* UPDATE about a node: BUS_UPDATE_LEN bytes into buf. */
size_t bus_msg_update_build(void *buf, const bus_msg_self *self, const char *nodename,
                            uint64_t config_epoch, const uint8_t *slots);
/* PUBLISH / PUBLISHSHARD: bus_msg_publish_len bytes. */
size_t bus_msg_publish_len(size_t clen, size_t mlen);
size_t bus_msg_publish_build(void *buf, const bus_msg_self *self, uint16_t type,
                             const char *channel, size_t clen, const char *msg, size_t mlen);
/* MODULE: bus_msg_module_len bytes. */
size_t bus_msg_module_len(uint32_t len);
size_t bus_msg_module_build(void *buf, const bus_msg_self *self, uint64_t module_id,
                            uint8_t type, const void *payload, uint32_t len);
/* Header-only messages (FAILOVER_AUTH_REQUEST / ACK, MFSTART): BUS_HDR_LEN. */
size_t bus_msg_bare_build(void *buf, const bus_msg_self *self, uint16_t type);

/* ---- receiving ---- */

typedef enum {
    BUS_MSG_ACCEPT = 0, /* process it */
    BUS_MSG_DROP,       /* ignore this message, keep the link */
    BUS_MSG_CLOSE       /* close the link (bad signature or length) */
} bus_msg_verdict;

/* The reader's check on the first 8 bytes (clusterReadHandler): "RCmb" and
 * totlen >= BUS_HDR_LEN, else CLOSE. *totlen gets the announced length.
 * A reader also caps totlen (BUS_MSG_MAX_LEN) and closes above it: Redis
 * has no cap, and no 7.0 message comes near it. */
#define BUS_MSG_MAX_LEN (64u * 1024 * 1024)
bus_msg_verdict bus_msg_check_prefix(const void *first8, uint32_t *totlen);

/* The whole message (len bytes, len == its totlen): what
 * clusterProcessPacket's sanity checks decide. DROP for a version other
 * than 1 or a known type whose totlen is not its exact length (ping
 * extensions checked only when EXT_DATA is set, as Redis does); unknown
 * types are accepted at any length. Never reads outside buf[0..len). */
bus_msg_verdict bus_msg_validate(const void *buf, size_t len);

/* A validated message, decoded into host order. Pointers point into the
 * buffer (valid as long as it is). */
typedef struct bus_msg_view {
    const bus_msg_hdr *hdr;     /* sender, myslots, slaveof, myip: raw */
    uint32_t totlen;
    uint16_t type, count, port, pport, cport, flags, extensions;
    uint8_t state, mflags0;
    uint64_t current_epoch, config_epoch, offset;
    bool is_master_sender;      /* slaveof is all zeros */
    const bus_msg_gossip *gossip; /* count entries (PING/PONG/MEET) */
    /* HOSTNAME extension, NULL when absent. The extensions are walked
     * within bounds whether or not EXT_DATA is set, as Redis walks them. */
    const char *hostname;
    int unknown_ext;            /* extensions of unknown types seen */
    uint16_t unknown_ext_type;  /* the type of the last of them */
    uint32_t caps;              /* the sender's SLCB capabilities, 0 if none */
    /* FAIL / UPDATE */
    const char *about;          /* CLUSTER_NAMELEN bytes */
    uint64_t update_epoch;
    const uint8_t *update_slots;
    /* PUBLISH / PUBLISHSHARD */
    const char *channel, *message;
    uint32_t channel_len, message_len;
    /* MODULE */
    uint64_t module_id;
    uint8_t module_type;
    const uint8_t *module_payload;
    uint32_t module_len;
} bus_msg_view;

/* Decode a message that bus_msg_validate accepted. */
void bus_msg_decode(const void *buf, size_t len, bus_msg_view *v);

/* Decoded gossip entry fields. */
static inline uint16_t bus_gossip_flags(const bus_msg_gossip *g) { return be16(g->flags); }
static inline uint16_t bus_gossip_port(const bus_msg_gossip *g) { return be16(g->port); }
static inline uint16_t bus_gossip_cport(const bus_msg_gossip *g) { return be16(g->cport); }
static inline uint16_t bus_gossip_pport(const bus_msg_gossip *g) { return be16(g->pport); }
static inline long long bus_gossip_pong_ms(const bus_msg_gossip *g) {
    return (long long)be32(g->pong_received) * 1000;
}
/* The gossip entry's ip, NUL-terminated into out. */
void bus_gossip_ip(const bus_msg_gossip *g, char out[BUS_IPLEN]);

/* Redis's name of a message type (clusterGetMessageTypeString): "ping",
 * "pong", "meet", "fail", "publish", "publishshard", "auth-req",
 * "auth-ack", "update", "mfstart", "module", else "unknown". CLUSTER INFO's
 * cluster_stats_messages_<name>_sent/received use the same names. */
const char *bus_msg_type_name(uint16_t type);

#endif
