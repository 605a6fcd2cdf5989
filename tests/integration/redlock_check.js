// tests/integration/redlock_check.js - node-redlock used unchanged against a
// running server. Started by redlock_test.sh, which owns the server and the
// npm installs:
//
//   node redlock_check.js PORT DIR4 DIR5 TABLE
//
// DIR4 holds node_modules with redlock@4.2.0, ioredis and redis@3; DIR5
// holds redlock@5.0.0-beta.2 and ioredis; TABLE is server/lock_scripts.c.
// Checks: (1) the SHA1 (node's crypto) of every script body the installed
// libraries ship - read both from their source files and from a live
// Redlock instance - is a row of the table, and the server's SCRIPT LOAD
// answers the same SHA1; (2) redlock 4.2.0 with node-redis v3 and with
// ioredis: lock, extend, unlock of one and of several resources, a taken
// lock refused, an expired lock's unlock rejected, the scripts cached after
// EVALSHA -> NOSCRIPT -> EVAL, and 4 connections incrementing a counter
// under the lock (exact count); (3) redlock 5.0.0-beta.2 with ioredis:
// acquire, extend, release, a taken lock refused, using() with automatic
// extension, an expired lock's release rejected, the same counter test.
// Prints "ok <name>" / "FAIL <name>: ..."; exits 1 when anything failed.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const [PORT, DIR4, DIR5, TABLE] = [Number(process.argv[2]), process.argv[3], process.argv[4], process.argv[5]];
const req4 = createRequire(path.join(DIR4, "package.json"));
const req5 = createRequire(path.join(DIR5, "package.json"));
const Redlock4 = req4("redlock");
const IORedis4 = req4("ioredis");
const nodeRedis3 = req4("redis");
const Redlock5 = req5("redlock").default;
const { ExecutionError } = req5("redlock");
const IORedis5 = req5("ioredis");

const failed = [];
const sha1 = (s) => crypto.createHash("sha1").update(s).digest("hex");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function expect(what, got, want) {
    if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}
function expectBetween(what, got, lo, hi) {
    if (!(got >= lo && got <= hi)) throw new Error(`${what}: got ${got}, expected ${lo}..${hi}`);
}
async function expectReject(what, promise, cls) {
    try {
        await promise;
    } catch (e) {
        if (cls && !(e instanceof cls)) throw new Error(`${what}: rejected with ${e && e.name}: ${e && e.message}`);
        return e;
    }
    throw new Error(`${what}: resolved, expected a rejection`);
}

async function check(name, fn) {
    try {
        await fn();
        console.log(`ok ${name}`);
    } catch (e) {
        failed.push(name);
        console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    }
}

// A plain ioredis connection for inspecting the keyspace.
function inspector() {
    return new IORedis5({ host: "127.0.0.1", port: PORT, lazyConnect: false, maxRetriesPerRequest: 1 });
}

const tableText = fs.readFileSync(TABLE, "utf8");
const tableShas = new Set(Array.from(tableText.matchAll(/"([0-9a-f]{40})"/g), (m) => m[1]));

function bodiesFromSource(file, names) {
    const src = fs.readFileSync(file, "utf8");
    return names.map((n) => {
        const m = src.match(new RegExp("const " + n + " = `([\\s\\S]*?)`;"));
        if (!m) throw new Error(`${file}: ${n} not found`);
        return [n, m[1]];
    });
}

async function expectRecognised(r, label, body) {
    const h = sha1(body);
    if (!tableShas.has(h)) throw new Error(`${label}: sha1 ${h} is not in ${TABLE}`);
    expect(`${label}: SCRIPT LOAD`, await r.script("LOAD", body), h);
}

// ---- (1) the shipped scripts are the table's ---------------------------

async function shippedScripts() {
    const r = inspector();
    try {
        const v4file = req4.resolve("redlock");
        for (const [n, body] of bodiesFromSource(v4file, ["lockScript", "unlockScript", "extendScript"]))
            await expectRecognised(r, `redlock 4 ${n}`, body);
        const v5cjs = req5.resolve("redlock");
        const v5esm = path.join(path.dirname(v5cjs), "..", "esm", "index.js");
        for (const file of [v5cjs, v5esm])
            for (const [n, body] of bodiesFromSource(file, ["ACQUIRE_SCRIPT", "EXTEND_SCRIPT", "RELEASE_SCRIPT"]))
                await expectRecognised(r, `redlock 5 ${path.basename(path.dirname(file))} ${n}`, body);
        // What a live instance sends (its scripts and their hashes).
        const c4 = new IORedis4({ port: PORT, lazyConnect: true });
        const l4 = new Redlock4([c4]);
        for (const [n, s] of Object.entries(l4.scripts)) {
            expect(`redlock 4 instance ${n} hash`, s.hash, sha1(s.value));
            await expectRecognised(r, `redlock 4 instance ${n}`, s.value);
        }
        const c5 = new IORedis5({ port: PORT, lazyConnect: true });
        const l5 = new Redlock5([c5]);
        for (const [n, s] of Object.entries(l5.scripts)) {
            expect(`redlock 5 instance ${n} hash`, s.hash, sha1(s.value));
            await expectRecognised(r, `redlock 5 instance ${n}`, s.value);
        }
        c4.disconnect();
        c5.disconnect();
    } finally {
        r.disconnect();
    }
}

// ---- (2) redlock 4.2.0 ------------------------------------------------------

function client4(kind) {
    if (kind === "ioredis") return new IORedis4({ host: "127.0.0.1", port: PORT });
    return nodeRedis3.createClient({ host: "127.0.0.1", port: PORT });
}
function close4(kind, c) {
    if (kind === "ioredis") c.disconnect();
    else c.quit();
}

async function redlock4(kind) {
    const r = inspector();
    const c = client4(kind);
    try {
        await r.flushall();
        await r.script("FLUSH");
        const redlock = new Redlock4([c], { retryCount: 0 });
        // Fresh cache: EVALSHA gets NOSCRIPT, the library falls back to EVAL.
        let lock = await redlock.lock("res4", 1000);
        expect("value stored", await r.get("res4"), lock.value);
        expectBetween("TTL", await r.pttl("res4"), 1, 1000);
        expect("lock script cached by EVAL", (await r.script("EXISTS", redlock.scripts.lockScript.hash))[0], 1);
        await expectReject("taken lock refused", redlock.lock("res4", 1000), Redlock4.LockError);
        lock = await lock.extend(60000);
        expectBetween("TTL after extend", await r.pttl("res4"), 50000, 60000);
        await lock.unlock();
        expect("released", await r.exists("res4"), 0);
        // Several resources at once (one hash slot, as a cluster needs).
        lock = await redlock.lock(["{m}a", "{m}b"], 60000);
        expect("both held", await r.exists("{m}a", "{m}b"), 2);
        await r.set("{m}b", "someone-else");
        await expectReject("partial unlock rejected", lock.unlock(), Redlock4.LockError);
        expect("own key released", await r.exists("{m}a"), 0);
        expect("foreign key kept", await r.get("{m}b"), "someone-else");
        // An expired lock cannot be unlocked.
        lock = await redlock.lock("short4", 100);
        await sleep(250);
        expect("expired", await r.exists("short4"), 0);
        await expectReject("unlock after expiry", lock.unlock(), Redlock4.LockError);
        // Contention: 4 connections, 25 increments each, GET then SET.
        const workers = [];
        for (let w = 0; w < 4; w++) {
            workers.push(
                (async () => {
                    const wc = client4(kind);
                    const wl = new Redlock4([wc], { retryCount: 1000, retryDelay: 5, retryJitter: 5 });
                    try {
                        for (let i = 0; i < 25; i++) {
                            const l = await wl.lock("cnt4", 10000);
                            const v = Number((await r.get("counter4")) || 0);
                            await sleep(1);
                            await r.set("counter4", String(v + 1));
                            await l.unlock();
                        }
                    } finally {
                        close4(kind, wc);
                    }
                })()
            );
        }
        await Promise.all(workers);
        expect("counter", await r.get("counter4"), "100");
    } finally {
        close4(kind, c);
        r.disconnect();
    }
}

// ---- (3) redlock 5.0.0-beta.2 -------------------------------------------------

async function redlock5() {
    const r = inspector();
    const c = new IORedis5({ host: "127.0.0.1", port: PORT });
    try {
        await r.flushall();
        await r.script("FLUSH");
        const redlock = new Redlock5([c], { retryCount: 2, retryDelay: 50 });
        redlock.on("error", () => {}); // votes against are reported here too
        let lock = await redlock.acquire(["res5"], 1000);
        expect("value stored", await r.get("res5"), lock.value);
        expectBetween("TTL", await r.pttl("res5"), 1, 1000);
        expect("acquire cached by EVAL", (await r.script("EXISTS", redlock.scripts.acquireScript.hash))[0], 1);
        await expectReject("taken lock refused", redlock.acquire(["res5"], 1000), ExecutionError);
        lock = await lock.extend(60000);
        expectBetween("TTL after extend", await r.pttl("res5"), 50000, 60000);
        await lock.release();
        expect("released", await r.exists("res5"), 0);
        // Several resources.
        lock = await redlock.acquire(["{n}a", "{n}b", "{n}c"], 60000);
        expect("all held", await r.exists("{n}a", "{n}b", "{n}c"), 3);
        lock = await lock.extend(30000);
        expectBetween("extended", await r.pttl("{n}c"), 20000, 30000);
        await lock.release();
        expect("all released", await r.exists("{n}a", "{n}b", "{n}c"), 0);
        // using(): the routine outlives the duration; redlock extends it.
        let extendedValue = null;
        await redlock.using(["auto5"], 700, { automaticExtensionThreshold: 400 }, async (signal) => {
            await sleep(1200);
            if (signal.aborted) throw signal.error;
            extendedValue = await r.get("auto5");
            expectBetween("auto-extended TTL", await r.pttl("auto5"), 1, 700);
        });
        if (extendedValue === null) throw new Error("using(): lock not held after its first duration");
        expect("using() released", await r.exists("auto5"), 0);
        // An expired lock cannot be released.
        lock = await redlock.acquire(["short5"], 100);
        await sleep(250);
        await expectReject("release after expiry", redlock.release(lock), ExecutionError);
        // Contention: 4 connections, 25 increments each.
        const workers = [];
        for (let w = 0; w < 4; w++) {
            workers.push(
                (async () => {
                    const wc = new IORedis5({ host: "127.0.0.1", port: PORT });
                    const wl = new Redlock5([wc], { retryCount: 1000, retryDelay: 5, retryJitter: 5 });
                    wl.on("error", () => {});
                    try {
                        for (let i = 0; i < 25; i++) {
                            const l = await wl.acquire(["cnt5"], 10000);
                            const v = Number((await r.get("counter5")) || 0);
                            await sleep(1);
                            await r.set("counter5", String(v + 1));
                            await l.release();
                        }
                    } finally {
                        wc.disconnect();
                    }
                })()
            );
        }
        await Promise.all(workers);
        expect("counter", await r.get("counter5"), "100");
    } finally {
        c.disconnect();
        r.disconnect();
    }
}

(async () => {
    await check("shipped_scripts_are_in_the_table", shippedScripts);
    await check("redlock4_node_redis3", () => redlock4("redis3"));
    await check("redlock4_ioredis", () => redlock4("ioredis"));
    await check("redlock5_ioredis", redlock5);
    if (failed.length) {
        console.log(`redlock_check: ${failed.length} failed: ${failed.join(" ")}`);
        process.exit(1);
    }
    console.log("redlock_check: all passed");
    process.exit(0);
})();
