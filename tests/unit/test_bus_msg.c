/*
 * test_bus_msg.c - unit tests for cluster/bus_msg.c: Redis 7.0's "RCmb"
 * bus messages byte for byte (header fields at their offsets, gossip
 * entries, the HOSTNAME extension padded to 8), the receiver's verdicts
 * (close / drop / accept, as clusterReadHandler and clusterProcessPacket
 * decide) and decoding. tests/integration/test_bus_redis.c checks the same
 * encoder and validator against a real redis-server.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../cluster/bus_msg.h"

#define NAME_A "0123456789abcdef0123456789abcdef01234567"
#define NAME_B "fedcba9876543210fedcba9876543210fedcba98"

static _Alignas(8) uint8_t buf[65536];
static uint8_t slots[BUS_SLOT_BYTES];

static bus_msg_self master_self(void)
{
    bus_msg_self s = {0};
    memcpy(s.name, NAME_A, CLUSTER_NAMELEN);
    s.flags = BUS_NODE_MASTER | BUS_NODE_MYSELF;
    s.current_epoch = 7;
    s.config_epoch = 5;
    s.offset = 0x0102030405060708ULL;
    memset(slots, 0, sizeof(slots));
    bus_slot_set(slots, 0);
    bus_slot_set(slots, 9);
    bus_slot_set(slots, 16383);
    s.slots = slots;
    s.port = 30001;
    s.cport = 40001;
    return s;
}

static unsigned get16(size_t off) { return (unsigned)buf[off] << 8 | buf[off + 1]; }
static unsigned long get32(size_t off)
{
    return (unsigned long)buf[off] << 24 | (unsigned long)buf[off + 1] << 16 |
           (unsigned long)buf[off + 2] << 8 | buf[off + 3];
}
static void put16(size_t off, unsigned v)
{
    buf[off] = (uint8_t)(v >> 8);
    buf[off + 1] = (uint8_t)v;
}
static void put32(size_t off, unsigned long v)
{
    for (int i = 0; i < 4; i++) buf[off + i] = (uint8_t)(v >> (24 - 8 * i));
}
static bool all_zero(size_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[off + i]) return false;
    return true;
}

Test(bus_msg, layout_constants)
{
    cr_assert_eq(sizeof(bus_msg_hdr), 2256);
    cr_assert_eq(sizeof(bus_msg_gossip), 104);
    cr_assert_eq(BUS_FAIL_LEN, 2296);
    cr_assert_eq(BUS_UPDATE_LEN, 4352);
    cr_assert_eq(bus_msg_publish_len(3, 5), 2264 + 8);
    cr_assert_eq(bus_msg_module_len(10), 2256 + 13 + 10);
    cr_assert_eq(bus_msg_ping_len(3, NULL), 2568);
}

Test(bus_msg, master_header_bytes)
{
    bus_msg_self s = master_self();
    memset(buf, 0xAA, sizeof(buf));
    size_t n = bus_msg_ping(buf, &s, BUS_PING, 0);
    cr_assert_eq(n, 2256);
    cr_assert(memcmp(buf, "RCmb", 4) == 0);
    cr_assert_eq(get32(4), 2256);
    cr_assert_eq(get16(8), 1);          /* ver */
    cr_assert_eq(get16(10), 30001);     /* port */
    cr_assert_eq(get16(12), BUS_PING);  /* type */
    cr_assert_eq(get16(14), 0);         /* count */
    cr_assert_eq(get32(16), 0);
    cr_assert_eq(get32(20), 7);         /* currentEpoch */
    cr_assert_eq(get32(28), 5);         /* configEpoch */
    cr_assert_eq(get32(32), 0x01020304);
    cr_assert_eq(get32(36), 0x05060708);
    cr_assert(memcmp(buf + 40, NAME_A, 40) == 0);
    /* slot 0: bit 0 of byte 0; 9: bit 1 of byte 1; 16383: bit 7 of the last */
    cr_assert_eq(buf[80], 0x01);
    cr_assert_eq(buf[81], 0x02);
    cr_assert_eq(buf[80 + 2047], 0x80);
    cr_assert(all_zero(2128, 40));      /* slaveof: a master */
    cr_assert(all_zero(2168, 46));      /* myip: discover from the socket */
    cr_assert_eq(get16(2214), 0);       /* extensions */
    cr_assert(all_zero(2216, 30));      /* notused1: plain 7.0 */
    cr_assert_eq(get16(2246), 0);       /* pport */
    cr_assert_eq(get16(2248), 40001);   /* cport */
    cr_assert_eq(get16(2250), 17);      /* MASTER|MYSELF */
    cr_assert_eq(buf[2252], 0);         /* state ok */
    cr_assert(all_zero(2253, 3));       /* mflags */
}

Test(bus_msg, replica_header_sends_master_config)
{
    bus_msg_self s = master_self();
    s.flags = BUS_NODE_SLAVE | BUS_NODE_MYSELF;
    s.has_master = true;
    memcpy(s.slaveof, NAME_B, CLUSTER_NAMELEN);
    strcpy(s.myip, "10.1.2.3");
    s.state = 1;
    s.paused = true;
    bus_msg_ping(buf, &s, BUS_PONG, 0);
    cr_assert(memcmp(buf + 2128, NAME_B, 40) == 0);
    cr_assert_str_eq((char *)buf + 2168, "10.1.2.3");
    cr_assert(all_zero(2168 + 8, 46 - 8));
    cr_assert_eq(get16(2250), 18);
    cr_assert_eq(buf[2252], 1);
    cr_assert_eq(buf[2253], BUS_MFLAG0_PAUSED);
    cr_assert_eq(buf[81], 0x02);        /* the bitmap given (its master's) */
}

Test(bus_msg, myip_is_cut_to_45_bytes)
{
    bus_msg_self s = master_self();
    memset(s.myip, 'x', sizeof(s.myip)); /* not NUL-terminated */
    bus_msg_ping(buf, &s, BUS_PING, 0);
    cr_assert_eq(buf[2168 + 44], 'x');
    cr_assert_eq(buf[2168 + 45], 0);
}

Test(bus_msg, gossip_entries)
{
    bus_msg_self s = master_self();
    size_t n = bus_msg_ping(buf, &s, BUS_MEET, 2);
    cr_assert_eq(n, 2256 + 208);
    bus_msg_node_info ni = {.name = NAME_B, .ping_sent_ms = 1700000000999LL,
                            .pong_received_ms = 1700000001500LL, .ip = "127.0.0.1",
                            .port = 7000, .cport = 17000, .pport = 0,
                            .flags = BUS_NODE_MASTER | BUS_NODE_PFAIL};
    bus_msg_gossip_set(bus_msg_gossip_at(buf, 1), &ni);
    size_t g = 2256 + 104;
    cr_assert(all_zero(2256, 104));     /* entry 0 untouched */
    cr_assert(memcmp(buf + g, NAME_B, 40) == 0);
    cr_assert_eq(get32(g + 40), 1700000000UL);  /* seconds */
    cr_assert_eq(get32(g + 44), 1700000001UL);
    cr_assert_str_eq((char *)buf + g + 48, "127.0.0.1");
    cr_assert(all_zero(g + 48 + 9, 46 - 9));
    cr_assert_eq(get16(g + 94), 7000);
    cr_assert_eq(get16(g + 96), 17000);
    cr_assert_eq(get16(g + 98), 5);
    cr_assert_eq(get16(g + 100), 0);
    cr_assert_eq(get16(g + 102), 0);
    cr_assert_eq(get16(14), 2);
    cr_assert_eq(get32(4), n);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);

    bus_msg_view v;
    bus_msg_decode(buf, n, &v);
    cr_assert_eq(v.type, BUS_MEET);
    cr_assert_eq(v.count, 2);
    cr_assert_eq(bus_gossip_flags(&v.gossip[1]), 5);
    cr_assert_eq(bus_gossip_port(&v.gossip[1]), 7000);
    cr_assert_eq(bus_gossip_cport(&v.gossip[1]), 17000);
    cr_assert_eq(bus_gossip_pong_ms(&v.gossip[1]), 1700000001000LL);
    char ip[BUS_IPLEN];
    bus_gossip_ip(&v.gossip[1], ip);
    cr_assert_str_eq(ip, "127.0.0.1");
}

Test(bus_msg, hostname_extension_padded_to_8)
{
    bus_msg_self s = master_self();
    s.hostname = "host-14-chars.";   /* 14 characters, as captured: 24 bytes */
    cr_assert_eq(strlen(s.hostname), 14);
    size_t n = bus_msg_ping(buf, &s, BUS_PING, 1);
    cr_assert_eq(n, 2256 + 104 + 24);
    cr_assert_eq(bus_msg_ping_len(1, s.hostname), n);
    size_t e = 2256 + 104;
    cr_assert_eq(get32(e), 24);
    cr_assert_eq(get16(e + 4), BUS_EXT_HOSTNAME);
    cr_assert_eq(get16(e + 6), 0);
    cr_assert(memcmp(buf + e + 8, "host-14-chars.", 14) == 0);
    cr_assert(all_zero(e + 8 + 14, 2));
    cr_assert_eq(get16(2214), 1);
    cr_assert_eq(buf[2253], BUS_MFLAG0_EXT_DATA);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    bus_msg_view v;
    bus_msg_decode(buf, n, &v);
    cr_assert_str_eq(v.hostname, "host-14-chars.");

    /* 15 characters + NUL = 16 data bytes: still 24; 16 characters: 32. */
    cr_assert_eq(bus_msg_ping_len(0, "123456789012345"), 2256 + 24);
    cr_assert_eq(bus_msg_ping_len(0, "1234567890123456"), 2256 + 32);
    cr_assert_eq(bus_msg_ping_len(0, ""), 2256);
}

Test(bus_msg, check_prefix_closes_on_bad_sig_or_short_length)
{
    bus_msg_self s = master_self();
    bus_msg_ping(buf, &s, BUS_PING, 0);
    uint32_t tl = 0;
    cr_assert_eq(bus_msg_check_prefix(buf, &tl), BUS_MSG_ACCEPT);
    cr_assert_eq(tl, 2256);
    buf[3] = 'B';
    cr_assert_eq(bus_msg_check_prefix(buf, NULL), BUS_MSG_CLOSE);
    cr_assert_eq(bus_msg_validate(buf, 2256), BUS_MSG_CLOSE);
    buf[3] = 'b';
    put32(4, 2255);
    cr_assert_eq(bus_msg_check_prefix(buf, NULL), BUS_MSG_CLOSE);
    /* A 16-byte "light" header (Valkey) kills a 7.0 link. */
    put32(4, 16);
    cr_assert_eq(bus_msg_check_prefix(buf, NULL), BUS_MSG_CLOSE);
}

Test(bus_msg, drops_other_versions_and_wrong_lengths)
{
    bus_msg_self s = master_self();
    size_t n = bus_msg_ping(buf, &s, BUS_PING, 1);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    put16(8, 2);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_DROP);
    put16(8, 1);
    put16(14, 2); /* count says 2 entries, totlen holds 1 */
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_DROP);
    put16(14, 1);

    n = bus_msg_fail_build(buf, &s, NAME_B);
    cr_assert_eq(n, 2296);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    /* A FAIL one byte longer than its payload. */
    put32(4, 2297);
    buf[2296] = 0;
    cr_assert_eq(bus_msg_validate(buf, 2297), BUS_MSG_DROP);

    n = bus_msg_bare_build(buf, &s, BUS_FAILOVER_AUTH_REQUEST);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    put32(4, 2260);
    cr_assert_eq(bus_msg_validate(buf, 2260), BUS_MSG_DROP);

    /* Unknown type: any length. */
    n = bus_msg_bare_build(buf, &s, 42);
    put32(4, 3001);
    cr_assert_eq(bus_msg_validate(buf, 3001), BUS_MSG_ACCEPT);

    /* The buffer must hold exactly totlen. */
    n = bus_msg_bare_build(buf, &s, BUS_MFSTART);
    cr_assert_eq(bus_msg_validate(buf, n + 8), BUS_MSG_DROP);
}

Test(bus_msg, extension_checks_only_under_ext_data)
{
    bus_msg_self s = master_self();
    s.hostname = "abc";
    size_t n = bus_msg_ping(buf, &s, BUS_PONG, 0);
    cr_assert_eq(n, 2256 + 16);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    /* Length not a multiple of 8. */
    put32(2256, 12);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_DROP);
    /* Longer than what is left. */
    put32(2256, 24);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_DROP);
    /* Without EXT_DATA the extensions are not checked: the length of the
     * message is then 2256 + gossip, so the 16 extension bytes make it
     * the wrong length... */
    put32(2256, 16);
    buf[2253] = 0;
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_DROP);
    /* ...and a message without them, whatever `extensions` says, passes. */
    put32(4, 2256);
    cr_assert_eq(bus_msg_validate(buf, 2256), BUS_MSG_ACCEPT);
    /* More extensions announced than present under EXT_DATA. */
    n = bus_msg_ping(buf, &s, BUS_PONG, 0);
    put16(2214, 2);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_DROP);
    /* An extension announced past the end of the message: Redis would read
     * its length from beyond the message; here it is a drop. */
    put16(2214, 1);
    put32(4, 2256);
    cr_assert_eq(bus_msg_validate(buf, 2256), BUS_MSG_DROP);
}

Test(bus_msg, unknown_extension_is_counted)
{
    bus_msg_self s = master_self();
    s.hostname = "abc";
    size_t n = bus_msg_ping(buf, &s, BUS_PING, 0);
    put16(2256 + 4, 3); /* SHARDID (7.2) */
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    bus_msg_view v;
    bus_msg_decode(buf, n, &v);
    cr_assert_null(v.hostname);
    cr_assert_eq(v.unknown_ext, 1);
    cr_assert_eq(v.unknown_ext_type, 3);
}

Test(bus_msg, publish_round_trip_and_length_checks)
{
    bus_msg_self s = master_self();
    size_t n = bus_msg_publish_build(buf, &s, BUS_PUBLISH, "chan", 4, "hello", 5);
    cr_assert_eq(n, 2256 + 8 + 9);
    cr_assert_eq(get32(2256), 4);
    cr_assert_eq(get32(2260), 5);
    cr_assert(memcmp(buf + 2264, "chanhello", 9) == 0);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    bus_msg_view v;
    bus_msg_decode(buf, n, &v);
    cr_assert_eq(v.channel_len, 4);
    cr_assert_eq(v.message_len, 5);
    cr_assert(memcmp(v.channel, "chan", 4) == 0);
    cr_assert(memcmp(v.message, "hello", 5) == 0);
    /* Lengths whose 32-bit sum wraps to the right total: Redis would accept
     * them and read 4 GB; here it is a drop. */
    put32(2256, 0xFFFFFFFFUL);
    put32(2260, 10);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_DROP);
    /* Too short to hold the two lengths. */
    n = bus_msg_bare_build(buf, &s, BUS_PUBLISHSHARD);
    put32(4, 2260);
    cr_assert_eq(bus_msg_validate(buf, 2260), BUS_MSG_DROP);
    n = bus_msg_publish_build(buf, &s, BUS_PUBLISHSHARD, "", 0, "", 0);
    cr_assert_eq(n, 2264);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
}

Test(bus_msg, update_and_module)
{
    bus_msg_self s = master_self();
    uint8_t bm[BUS_SLOT_BYTES] = {0};
    bus_slot_set(bm, 100);
    size_t n = bus_msg_update_build(buf, &s, NAME_B, 9, bm);
    cr_assert_eq(n, 4352);
    cr_assert_eq(get32(4), 4352);
    cr_assert_eq(get32(2256 + 4), 9);
    cr_assert(memcmp(buf + 2264, NAME_B, 40) == 0);
    cr_assert_eq(buf[2304 + 12], 0x10);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    bus_msg_view v;
    bus_msg_decode(buf, n, &v);
    cr_assert_eq(v.update_epoch, 9);
    cr_assert(memcmp(v.about, NAME_B, 40) == 0);
    cr_assert(bus_slot_test(v.update_slots, 100));
    cr_assert(!bus_slot_test(v.update_slots, 101));

    n = bus_msg_module_build(buf, &s, 0x1122334455667788ULL, 7, "xyz", 3);
    cr_assert_eq(n, 2256 + 13 + 3);
    cr_assert_eq(get32(2256 + 8), 3);
    cr_assert_eq(buf[2256 + 12], 7);
    cr_assert(memcmp(buf + 2269, "xyz", 3) == 0);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    bus_msg_decode(buf, n, &v);
    cr_assert_eq(v.module_id, 0x1122334455667788ULL); /* as given, not swapped */
    cr_assert_eq(v.module_type, 7);
    cr_assert_eq(v.module_len, 3);
    put32(2256 + 8, 4);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_DROP);
}

Test(bus_msg, decode_header_fields)
{
    bus_msg_self s = master_self();
    s.pport = 6379;
    size_t n = bus_msg_ping(buf, &s, BUS_PONG, 0);
    bus_msg_view v;
    bus_msg_decode(buf, n, &v);
    cr_assert_eq(v.type, BUS_PONG);
    cr_assert_eq(v.totlen, 2256);
    cr_assert_eq(v.port, 30001);
    cr_assert_eq(v.cport, 40001);
    cr_assert_eq(v.pport, 6379);
    cr_assert_eq(v.flags, 17);
    cr_assert_eq(v.current_epoch, 7);
    cr_assert_eq(v.config_epoch, 5);
    cr_assert_eq(v.offset, 0x0102030405060708ULL);
    cr_assert(v.is_master_sender);
    cr_assert(memcmp(v.hdr->sender, NAME_A, 40) == 0);
    cr_assert(bus_slot_test(v.hdr->myslots, 9));
    cr_assert_eq(v.caps, 0);
}

Test(bus_msg, capabilities_in_notused1_only_when_asked)
{
    bus_msg_self s = master_self();
    s.caps = 0x5;
    size_t n = bus_msg_ping(buf, &s, BUS_PING, 0);
    cr_assert(memcmp(buf + 2216, "SLCB", 4) == 0);
    cr_assert_eq(buf[2220], BUS_CAPS_VERSION);
    cr_assert_eq(get32(2221), 5);
    cr_assert(all_zero(2225, 2246 - 2225));
    /* Nothing else moves: the same message without caps differs only there. */
    static _Alignas(8) uint8_t plain[2256];
    s.caps = 0;
    bus_msg_ping(plain, &s, BUS_PING, 0);
    cr_assert(memcmp(plain, buf, 2216) == 0);
    cr_assert(memcmp(plain + 2246, buf + 2246, 10) == 0);
    cr_assert_eq(bus_msg_validate(buf, n), BUS_MSG_ACCEPT);
    bus_msg_view v;
    bus_msg_decode(buf, n, &v);
    cr_assert_eq(v.caps, 5);
}

Test(bus_msg, type_names)
{
    cr_assert_str_eq(bus_msg_type_name(BUS_PING), "ping");
    cr_assert_str_eq(bus_msg_type_name(BUS_FAILOVER_AUTH_REQUEST), "auth-req");
    cr_assert_str_eq(bus_msg_type_name(BUS_FAILOVER_AUTH_ACK), "auth-ack");
    cr_assert_str_eq(bus_msg_type_name(BUS_PUBLISHSHARD), "publishshard");
    cr_assert_str_eq(bus_msg_type_name(11), "unknown");
}

Test(bus_msg, validate_never_reads_past_a_truncated_extension)
{
    /* EXT_DATA with a count but the message ends right after the gossip:
     * each candidate length is checked before it is read. */
    bus_msg_self s = master_self();
    size_t n = bus_msg_ping(buf, &s, BUS_PING, 0);
    buf[2253] = BUS_MFLAG0_EXT_DATA;
    put16(2214, 100);
    uint8_t *copy = malloc(n); /* exactly n bytes: ASan catches an overread */
    memcpy(copy, buf, n);
    cr_assert_eq(bus_msg_validate(copy, n), BUS_MSG_DROP);
    bus_msg_view v;
    bus_msg_decode(copy, n, &v);
    cr_assert_null(v.hostname);
    free(copy);
}
