// tests/cluster/cluster_clients.js - ioredis's Cluster used unchanged
// against a running 3 masters + 3 replicas cluster. Started by
// cluster_clients_test.sh, which owns the cluster and the npm install:
//
//   node cluster_clients.js DIR PORT1 ... PORT6
//
// DIR holds node_modules with ioredis. Checks: a client seeded with one
// node discovers 3 masters and 3 replicas (the right ports); 300 keys
// written and read back across every master (each holds some); a pipeline
// and a MULTI/EXEC inside one hash tag; hash-tagged MSET / MGET, and the
// server's CROSSSLOT answer across slots; scaleReads "slave": reads right,
// served by the replicas after a READONLY (their INFO commandstats); a
// stale slot map (a slot pointed at the wrong master) still answers through
// MOVED (that master's errorstat_MOVED grows) and is corrected; a slot
// really moved to another master while the client holds the old map: its
// SET and GET follow the old owner's MOVED.
// Prints "ok <name>" / "FAIL <name>: ..."; exits 1 when anything failed.
"use strict";

const path = require("path");
const { createRequire } = require("module");

const DIR = process.argv[2];
const PORTS = process.argv.slice(3).map(Number);
const HOST = "127.0.0.1";
const req = createRequire(path.join(DIR, "package.json"));
const Redis = req("ioredis");
const keySlot = req("cluster-key-slot"); // ioredis's own dependency

let failures = 0;

function assert(cond, what) {
    if (!cond) throw new Error(what);
}

async function check(name, fn) {
    try {
        await fn();
        console.log("ok " + name);
    } catch (e) {
        failures++;
        console.log("FAIL " + name + ": " + (e && e.stack ? e.stack : e));
    }
}

// A plain connection to one node, closed after fn.
async function direct(port, fn) {
    const r = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
        return await fn(r);
    } finally {
        r.disconnect();
    }
}

// INFO section as { field: value }.
async function info(port, section) {
    const text = await direct(port, (r) => r.info(section));
    const out = {};
    for (const line of text.split("\r\n")) {
        const i = line.indexOf(":");
        if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
}

function calls(stats, cmd) {
    const m = /calls=(\d+)/.exec(stats["cmdstat_" + cmd] || "");
    return m ? Number(m[1]) : 0;
}

// The MOVED errors node "host:port" answered so far (INFO errorstats).
async function movedErrors(k) {
    const e = await info(Number(k.split(":")[1]), "errorstats");
    const m = /count=(\d+)/.exec(e.errorstat_MOVED || "");
    return m ? Number(m[1]) : 0;
}

// Run op (which goes through cluster client c's map for slot s) and close
// c; node `from` must have answered a MOVED meanwhile. Returns op's value
// and what the map says for s afterwards.
async function throughStaleMap(c, s, from, op) {
    const before = await movedErrors(from);
    const v = await op();
    const after = c.slots[s][0];
    c.disconnect();
    assert((await movedErrors(from)) > before, "no MOVED came from " + from);
    return { v, after };
}

async function roles() {
    const out = {};
    for (const p of PORTS) out[p] = (await direct(p, (r) => r.role()))[0];
    return out;
}

async function cluster(opts) {
    const c = new Redis.Cluster([{ host: HOST, port: PORTS[0] }], Object.assign({ enableReadyCheck: true }, opts));
    await new Promise((resolve, reject) => {
        c.once("ready", resolve);
        c.once("error", reject);
    });
    return c;
}

async function waitFor(cond, what, ms = 20000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
        if (await cond()) return;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("timed out: " + what);
}

async function main() {
    const role = await roles();
    const masters = PORTS.filter((p) => role[p] === "master").sort();
    const replicas = PORTS.filter((p) => role[p] === "slave").sort();

    await check("discovery from one node", async () => {
        const c = await cluster({});
        const port = (n) => n.options.port;
        const m = c.nodes("master").map(port).sort();
        const s = c.nodes("slave").map(port).sort();
        c.disconnect();
        assert(JSON.stringify(m) === JSON.stringify(masters), "masters " + m + " vs " + masters);
        assert(JSON.stringify(s) === JSON.stringify(replicas), "replicas " + s + " vs " + replicas);
    });

    await check("keys across all masters", async () => {
        const c = await cluster({});
        await Promise.all(c.nodes("master").map((n) => n.flushall()));
        await Promise.all([...Array(300).keys()].map((i) => c.set("io:" + i, "v" + i)));
        const got = await Promise.all([...Array(300).keys()].map((i) => c.get("io:" + i)));
        c.disconnect();
        got.forEach((v, i) => assert(v === "v" + i, "io:" + i + " = " + v));
        let total = 0;
        for (const p of masters) {
            const n = await direct(p, (r) => r.dbsize());
            assert(n > 0, "master " + p + " holds no key");
            total += n;
        }
        assert(total === 300, "the masters hold " + total + " keys");
    });

    await check("pipeline and MULTI in one hash tag", async () => {
        const c = await cluster({});
        const p = c.pipeline();
        for (let i = 0; i < 100; i++) p.set("{pipe}" + i, i).incr("{pipe}" + i);
        const out = await p.exec();
        assert(out.length === 200, "pipeline replies " + out.length);
        for (let i = 0; i < 100; i++) {
            assert(out[2 * i][0] === null && out[2 * i][1] === "OK", "SET reply " + out[2 * i]);
            assert(out[2 * i + 1][1] === i + 1, "INCR reply " + out[2 * i + 1]);
        }
        const tx = await c.multi().set("{pipe}x", "1").incr("{pipe}x").get("{pipe}x").exec();
        c.disconnect();
        assert(JSON.stringify(tx) === JSON.stringify([[null, "OK"], [null, 2], [null, "2"]]), "MULTI " + JSON.stringify(tx));
    });

    await check("hash-tagged MSET/MGET, CROSSSLOT across slots", async () => {
        const c = await cluster({});
        await c.mset("{user:9}:name", "N", "{user:9}:mail", "M", "{user:9}:city", "C");
        const got = await c.mget("{user:9}:name", "{user:9}:mail", "{user:9}:city");
        assert(JSON.stringify(got) === JSON.stringify(["N", "M", "C"]), "MGET " + got);
        let err = null;
        try {
            await c.mget("io:1", "io:2", "io:3");
        } catch (e) {
            err = e.message;
        }
        c.disconnect();
        assert(err === "CROSSSLOT Keys in request don't hash to the same slot", "cross-slot MGET: " + err);
    });

    await check("scaleReads slave", async () => {
        await waitFor(async () => {
            for (const p of replicas) {
                const r = await info(p, "replication");
                if (r.master_link_status !== "up") return false;
                const mine = await direct(p, (x) => x.dbsize());
                const theirs = await direct(Number(r.master_port), (x) => x.dbsize());
                if (mine !== theirs) return false;
            }
            return true;
        }, "the replicas caught up");
        for (const p of replicas) await direct(p, (r) => r.config("RESETSTAT"));
        const c = await cluster({ scaleReads: "slave" });
        const got = await Promise.all([...Array(300).keys()].map((i) => c.get("io:" + i)));
        c.disconnect();
        got.forEach((v, i) => assert(v === "v" + i, "io:" + i + " = " + v + " on a replica"));
        for (const p of replicas) {
            const stats = await info(p, "commandstats");
            assert(calls(stats, "get") > 0 && calls(stats, "readonly") >= 1,
                "replica " + p + ": get " + calls(stats, "get") + ", readonly " + calls(stats, "readonly"));
        }
    });

    await check("stale slot map follows MOVED", async () => {
        const c = await cluster({});
        const key = "io:42";
        const s = keySlot(key);
        const right = c.slots[s][0];
        const wrong = masters.map((p) => HOST + ":" + p).find((k) => k !== right);
        const { v, after } = await throughStaleMap(c, s, wrong, () => {
            c.slots[s] = [wrong];
            return c.get(key);
        });
        assert(v === "v42", "GET through a stale map: " + v);
        assert(after === right, "slot " + s + " now maps to " + after + ", not " + right);
    });

    await check("a slot moved under the client", async () => {
        // As redis-cli --cluster fix takes a slot: MULTI / CLUSTER DELSLOTS
        // / ADDSLOTS / BUMPEPOCH / EXEC on the new owner, which wins by its
        // bumped epoch. The client's map predates the move.
        const c = await cluster({});
        let key = null;
        for (let i = 0; i < 1000 && !key; i++) {
            const k = "io-moving:" + i;
            const owner = Number(c.slots[keySlot(k)][0].split(":")[1]);
            if ((await direct(owner, (r) => r.cluster("COUNTKEYSINSLOT", keySlot(k)))) === 0) key = k;
        }
        assert(key, "no empty slot found");
        const s = keySlot(key);
        const old = c.slots[s][0];
        const target = masters.map((p) => HOST + ":" + p).find((k) => k !== old);
        const newPort = Number(target.split(":")[1]);
        await direct(newPort, (r) => r.multi().cluster("DELSLOTS", s).cluster("ADDSLOTS", s).cluster("BUMPEPOCH").exec());
        const ownerOf = async (port) => {
            for (const r of await direct(port, (x) => x.cluster("SLOTS"))) if (r[0] <= s && s <= r[1]) return r[2][1];
            return null;
        };
        await waitFor(async () => {
            for (const p of PORTS) if ((await ownerOf(p)) !== newPort) return false;
            return true;
        }, "every node maps slot " + s + " to its new owner");
        assert(c.slots[s][0] === old, "the client's map changed already");
        const { v, after } = await throughStaleMap(c, s, old, async () => {
            await c.set(key, "moved");
            return c.get(key);
        });
        assert(v === "moved", "GET after the move: " + v);
        assert(after === target, "slot " + s + " maps to " + after + ", not " + target);
        assert((await direct(newPort, (r) => r.get(key))) === "moved", "the key is not on the new owner");
    });

    console.log("ioredis " + req("ioredis/package.json").version + ": " + failures + " failed");
    process.exit(failures ? 1 : 0);
}

main().catch((e) => {
    console.log("FAIL main: " + (e && e.stack ? e.stack : e));
    process.exit(1);
});
