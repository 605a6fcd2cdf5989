/*
 * bus_msg.c - encoder, receiver checks and decoder of Redis 7.0's cluster
 * bus messages (bus_msg.h).
 *
 * - The checks return what Redis 7.0.15 does with the same bytes
 *   (clusterReadHandler: CLOSE; clusterProcessPacket: DROP or ACCEPT),
 *   except where Redis would read outside the message or let a 32-bit
 *   length sum wrap: there it is DROP (the bytes are garbage either way).
 * - libc only (no allocator, no log), so the integration test that talks
 *   to a real redis-server compiles this file in as it is.
 */
#include "bus_msg.h"

#include <string.h>

static const char bus_sig[4] = {'R', 'C', 'm', 'b'};

/* ---- encoding ---- */

static size_t ext_hostname_len(const char *hostname)
{
    if (!hostname || !hostname[0]) return 0;
    size_t n = strlen(hostname) + 1; /* NUL-terminated */
    return sizeof(bus_msg_ext) + ((n + 7) / 8) * 8;
}

void bus_msg_hdr_init(bus_msg_hdr *h, const bus_msg_self *self, uint16_t type)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->sig, bus_sig, 4);
    h->ver = be16(BUS_PROTO_VER);
    h->type = be16(type);
    memcpy(h->sender, self->name, CLUSTER_NAMELEN);
    size_t iplen = strnlen(self->myip, BUS_IPLEN - 1);
    memcpy(h->myip, self->myip, iplen);
    if (self->slots) memcpy(h->myslots, self->slots, BUS_SLOT_BYTES);
    if (self->has_master) memcpy(h->slaveof, self->slaveof, CLUSTER_NAMELEN);
    h->port = be16(self->port);
    h->pport = be16(self->pport);
    h->cport = be16(self->cport);
    h->flags = be16(self->flags);
    h->state = self->state;
    h->current_epoch = be64(self->current_epoch);
    h->config_epoch = be64(self->config_epoch);
    h->offset = be64(self->offset);
    if (self->paused) h->mflags[0] |= BUS_MFLAG0_PAUSED;
    if (self->caps) {
        uint32_t caps = be32(self->caps);
        memcpy(h->notused1, BUS_CAPS_MAGIC, 4);
        h->notused1[4] = BUS_CAPS_VERSION;
        memcpy(h->notused1 + 5, &caps, 4);
    }
    uint32_t totlen = BUS_HDR_LEN;
    if (type == BUS_FAIL) totlen = BUS_FAIL_LEN;
    else if (type == BUS_UPDATE) totlen = BUS_UPDATE_LEN;
    h->totlen = be32(totlen);
}

size_t bus_msg_ping_len(uint16_t count, const char *hostname)
{
    return BUS_HDR_LEN + sizeof(bus_msg_gossip) * (size_t)count + ext_hostname_len(hostname);
}

size_t bus_msg_ping(void *buf, const bus_msg_self *self, uint16_t type, uint16_t count)
{
    bus_msg_hdr *h = buf;
    bus_msg_hdr_init(h, self, type);
    size_t gossip_len = sizeof(bus_msg_gossip) * (size_t)count;
    memset((char *)buf + BUS_HDR_LEN, 0, gossip_len);
    size_t totlen = BUS_HDR_LEN + gossip_len;
    size_t extlen = ext_hostname_len(self->hostname);
    if (extlen) {
        /* 7.0 sets EXT_DATA only when an extension follows. */
        char *p = (char *)buf + totlen;
        memset(p, 0, extlen);
        bus_msg_ext *e = (bus_msg_ext *)p;
        e->length = be32((uint32_t)extlen);
        e->type = be16(BUS_EXT_HOSTNAME);
        memcpy(p + sizeof(*e), self->hostname, strlen(self->hostname));
        h->mflags[0] |= BUS_MFLAG0_EXT_DATA;
        h->extensions = be16(1);
        totlen += extlen;
    }
    h->count = be16(count);
    h->totlen = be32((uint32_t)totlen);
    return totlen;
}

void bus_msg_gossip_set(bus_msg_gossip *g, const bus_msg_node_info *n)
{
    memset(g, 0, sizeof(*g));
    memcpy(g->nodename, n->name, CLUSTER_NAMELEN);
    g->ping_sent = be32((uint32_t)(n->ping_sent_ms / 1000));
    g->pong_received = be32((uint32_t)(n->pong_received_ms / 1000));
    if (n->ip) memcpy(g->ip, n->ip, strnlen(n->ip, BUS_IPLEN - 1));
    g->port = be16(n->port);
    g->cport = be16(n->cport);
    g->flags = be16(n->flags);
    g->pport = be16(n->pport);
}

size_t bus_msg_fail_build(void *buf, const bus_msg_self *self, const char *nodename)
{
    bus_msg_hdr_init(buf, self, BUS_FAIL);
    bus_msg_fail *f = (bus_msg_fail *)((char *)buf + BUS_HDR_LEN);
    memcpy(f->nodename, nodename, CLUSTER_NAMELEN);
    return BUS_FAIL_LEN;
}

size_t bus_msg_update_build(void *buf, const bus_msg_self *self, const char *nodename,
                            uint64_t config_epoch, const uint8_t *slots)
{
    bus_msg_hdr_init(buf, self, BUS_UPDATE);
    bus_msg_update *u = (bus_msg_update *)((char *)buf + BUS_HDR_LEN);
    u->config_epoch = be64(config_epoch);
    memcpy(u->nodename, nodename, CLUSTER_NAMELEN);
    memcpy(u->slots, slots, BUS_SLOT_BYTES);
    return BUS_UPDATE_LEN;
}

size_t bus_msg_publish_len(size_t clen, size_t mlen)
{
    return BUS_HDR_LEN + sizeof(bus_msg_publish) + clen + mlen;
}

size_t bus_msg_publish_build(void *buf, const bus_msg_self *self, uint16_t type,
                             const char *channel, size_t clen, const char *msg, size_t mlen)
{
    bus_msg_hdr *h = buf;
    bus_msg_hdr_init(h, self, type);
    size_t totlen = bus_msg_publish_len(clen, mlen);
    bus_msg_publish *p = (bus_msg_publish *)((char *)buf + BUS_HDR_LEN);
    p->channel_len = be32((uint32_t)clen);
    p->message_len = be32((uint32_t)mlen);
    char *data = (char *)(p + 1);
    if (clen) memcpy(data, channel, clen);
    if (mlen) memcpy(data + clen, msg, mlen);
    h->totlen = be32((uint32_t)totlen);
    return totlen;
}

size_t bus_msg_module_len(uint32_t len)
{
    return BUS_HDR_LEN + BUS_MODULE_FIXED + (size_t)len;
}

size_t bus_msg_module_build(void *buf, const bus_msg_self *self, uint64_t module_id,
                            uint8_t type, const void *payload, uint32_t len)
{
    bus_msg_hdr *h = buf;
    bus_msg_hdr_init(h, self, BUS_MODULE);
    size_t totlen = bus_msg_module_len(len);
    char *p = (char *)buf + BUS_HDR_LEN;
    bus_msg_module m = {.module_id = module_id, .len = be32(len), .type = type};
    memcpy(p, &m, BUS_MODULE_FIXED); /* the struct's tail padding is not sent */
    if (len) memcpy(p + BUS_MODULE_FIXED, payload, len);
    h->totlen = be32((uint32_t)totlen);
    return totlen;
}

size_t bus_msg_bare_build(void *buf, const bus_msg_self *self, uint16_t type)
{
    bus_msg_hdr_init(buf, self, type);
    return BUS_HDR_LEN;
}

/* ---- receiving ---- */

static uint32_t load_be32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return be32(v);
}

static uint16_t load_be16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return be16(v);
}

bus_msg_verdict bus_msg_check_prefix(const void *first8, uint32_t *totlen)
{
    const char *p = first8;
    uint32_t n = load_be32(p + 4);
    if (totlen) *totlen = n;
    if (memcmp(p, bus_sig, 4) != 0 || n < BUS_HDR_LEN) return BUS_MSG_CLOSE;
    return BUS_MSG_ACCEPT;
}

/* The extension walk of clusterProcessPacket (only under EXT_DATA): every
 * length, read as a u16, a multiple of 8 and within what is left. Returns
 * the expected length so far plus the extensions, or 0 for DROP. */
static uint64_t check_extensions(const char *p, size_t len, uint64_t explen, uint16_t n)
{
    uint64_t pos = explen; /* where the next extension starts */
    while (n--) {
        if (pos + 4 > len) return 0;  /* Redis would read past the message */
        uint32_t len32 = load_be32(p + pos);
        if (len32 > 0xFFFF) return 0; /* Redis checks 16 bits and steps by 32 */
        uint16_t extlen = (uint16_t)len32;
        if (extlen % 8 != 0) return 0;
        if (explen > len || len - explen < extlen) return 0;
        explen += extlen;
        pos += extlen;
    }
    return explen;
}

bus_msg_verdict bus_msg_validate(const void *buf, size_t len)
{
    const char *p = buf;
    if (len < 8) return BUS_MSG_CLOSE;
    uint32_t totlen;
    if (bus_msg_check_prefix(p, &totlen) != BUS_MSG_ACCEPT) return BUS_MSG_CLOSE;
    if (len < BUS_HDR_LEN || totlen != len) return BUS_MSG_DROP;
    const bus_msg_hdr *h = buf;
    if (be16(h->ver) != BUS_PROTO_VER) return BUS_MSG_DROP;

    uint16_t type = be16(h->type);
    uint64_t explen = BUS_HDR_LEN;
    switch (type) {
    case BUS_PING:
    case BUS_PONG:
    case BUS_MEET:
        explen += sizeof(bus_msg_gossip) * (uint64_t)be16(h->count);
        if (h->mflags[0] & BUS_MFLAG0_EXT_DATA) {
            explen = check_extensions(p, len, explen, be16(h->extensions));
            if (explen == 0) return BUS_MSG_DROP;
        }
        break;
    case BUS_FAIL:
        explen = BUS_FAIL_LEN;
        break;
    case BUS_PUBLISH:
    case BUS_PUBLISHSHARD:
        if (len < BUS_HDR_LEN + sizeof(bus_msg_publish)) return BUS_MSG_DROP;
        explen += sizeof(bus_msg_publish) + (uint64_t)load_be32(p + BUS_HDR_LEN) +
                  load_be32(p + BUS_HDR_LEN + 4);
        break;
    case BUS_FAILOVER_AUTH_REQUEST:
    case BUS_FAILOVER_AUTH_ACK:
    case BUS_MFSTART:
        break;
    case BUS_UPDATE:
        explen = BUS_UPDATE_LEN;
        break;
    case BUS_MODULE:
        if (len < BUS_HDR_LEN + BUS_MODULE_FIXED) return BUS_MSG_DROP;
        explen += BUS_MODULE_FIXED + (uint64_t)load_be32(p + BUS_HDR_LEN + 8);
        break;
    default:
        explen = totlen; /* unknown type: assumed well formed */
        break;
    }
    return explen == totlen ? BUS_MSG_ACCEPT : BUS_MSG_DROP;
}

/* Walk the ping extensions within bounds (clusterProcessPingExtensions
 * walks `extensions` entries whether or not EXT_DATA is set). */
static void decode_extensions(const char *p, size_t len, bus_msg_view *v)
{
    size_t pos = BUS_HDR_LEN + sizeof(bus_msg_gossip) * (size_t)v->count;
    for (unsigned n = v->extensions; n > 0; n--) {
        if (pos + sizeof(bus_msg_ext) > len) break;
        uint32_t extlen = load_be32(p + pos);
        uint16_t type = load_be16(p + pos + 4);
        if (extlen < sizeof(bus_msg_ext) || extlen > len - pos) break;
        if (type == BUS_EXT_HOSTNAME) {
            const char *s = p + pos + sizeof(bus_msg_ext);
            if (memchr(s, '\0', extlen - sizeof(bus_msg_ext))) v->hostname = s;
        } else {
            v->unknown_ext++;
            v->unknown_ext_type = type;
        }
        pos += extlen;
    }
}

void bus_msg_decode(const void *buf, size_t len, bus_msg_view *v)
{
    const char *p = buf;
    const bus_msg_hdr *h = buf;
    memset(v, 0, sizeof(*v));
    v->hdr = h;
    v->totlen = be32(h->totlen);
    v->type = be16(h->type);
    v->count = be16(h->count);
    v->port = be16(h->port);
    v->pport = be16(h->pport);
    v->cport = be16(h->cport);
    v->flags = be16(h->flags);
    v->extensions = be16(h->extensions);
    v->state = h->state;
    v->mflags0 = h->mflags[0];
    v->current_epoch = be64(h->current_epoch);
    v->config_epoch = be64(h->config_epoch);
    v->offset = be64(h->offset);
    static const char zeros[CLUSTER_NAMELEN];
    v->is_master_sender = memcmp(h->slaveof, zeros, CLUSTER_NAMELEN) == 0;
    if (memcmp(h->notused1, BUS_CAPS_MAGIC, 4) == 0 && h->notused1[4] >= BUS_CAPS_VERSION)
        v->caps = load_be32(h->notused1 + 5);

    const char *data = p + BUS_HDR_LEN;
    switch (v->type) {
    case BUS_PING:
    case BUS_PONG:
    case BUS_MEET:
        v->gossip = (const bus_msg_gossip *)data;
        decode_extensions(p, len, v);
        break;
    case BUS_FAIL:
        v->about = data;
        break;
    case BUS_UPDATE: {
        const bus_msg_update *u = (const bus_msg_update *)data;
        v->update_epoch = be64(u->config_epoch);
        v->about = u->nodename;
        v->update_slots = u->slots;
        break;
    }
    case BUS_PUBLISH:
    case BUS_PUBLISHSHARD:
        v->channel_len = load_be32(data);
        v->message_len = load_be32(data + 4);
        v->channel = data + sizeof(bus_msg_publish);
        v->message = v->channel + v->channel_len;
        break;
    case BUS_MODULE:
        memcpy(&v->module_id, data, 8);
        v->module_len = load_be32(data + 8);
        v->module_type = (uint8_t)data[12];
        v->module_payload = (const uint8_t *)data + BUS_MODULE_FIXED;
        break;
    default:
        break;
    }
}

void bus_gossip_ip(const bus_msg_gossip *g, char out[BUS_IPLEN])
{
    memcpy(out, g->ip, BUS_IPLEN);
    out[BUS_IPLEN - 1] = '\0'; /* not sure the input is sane */
}

const char *bus_msg_type_name(uint16_t type)
{
    static const char *const names[BUS_TYPE_COUNT] = {
        [BUS_PING] = "ping",
        [BUS_PONG] = "pong",
        [BUS_MEET] = "meet",
        [BUS_FAIL] = "fail",
        [BUS_PUBLISH] = "publish",
        [BUS_FAILOVER_AUTH_REQUEST] = "auth-req",
        [BUS_FAILOVER_AUTH_ACK] = "auth-ack",
        [BUS_UPDATE] = "update",
        [BUS_MFSTART] = "mfstart",
        [BUS_MODULE] = "module",
        [BUS_PUBLISHSHARD] = "publishshard",
    };
    return type < BUS_TYPE_COUNT ? names[type] : "unknown";
}
