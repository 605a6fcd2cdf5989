/*
 * latency.c - latency monitor and the LATENCY command (see latency.h).
 */
#include "latency.h"

#include "client.h"
#include "command_modules.h"
#include "config.h"
#include "db.h"
#include "mem.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define LATENCY_TS_LEN 160
#define LATENCY_MAX_EVENTS 32

typedef struct {
    long long time; /* unix seconds */
    long long latency;
} latency_sample;

typedef struct {
    char name[48];
    long long max;
    int idx; /* next slot to write */
    latency_sample samples[LATENCY_TS_LEN];
} latency_series;

static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;
static latency_series *series[LATENCY_MAX_EVENTS];
static int nseries;

static latency_series *find_series(const char *name, size_t len) {
    for (int i = 0; i < nseries; i++)
        if (strlen(series[i]->name) == len && strncasecmp(series[i]->name, name, len) == 0) return series[i];
    return NULL;
}

void latency_add_sample_if_needed(const char *event, long long ms) {
    long long threshold = cfg_get(latency_monitor_threshold);
    if (threshold <= 0 || ms < threshold) return;
    long long now = mstime() / 1000;
    pthread_mutex_lock(&lat_lock);
    latency_series *ts = find_series(event, strlen(event));
    if (!ts && nseries < LATENCY_MAX_EVENTS) {
        ts = mem_calloc(1, sizeof *ts);
        snprintf(ts->name, sizeof ts->name, "%s", event);
        series[nseries++] = ts;
    }
    if (ts) {
        if (ms > ts->max) ts->max = ms;
        int prev = (ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
        if (ts->samples[prev].time == now) {
            if (ms > ts->samples[prev].latency) ts->samples[prev].latency = ms;
        } else {
            ts->samples[ts->idx].time = now;
            ts->samples[ts->idx].latency = ms;
            ts->idx = (ts->idx + 1) % LATENCY_TS_LEN;
        }
    }
    pthread_mutex_unlock(&lat_lock);
}

void latency_free(void) {
    pthread_mutex_lock(&lat_lock);
    for (int i = 0; i < nseries; i++) mem_free(series[i]);
    nseries = 0;
    pthread_mutex_unlock(&lat_lock);
}

static void latency_latest_command(client *c) {
    pthread_mutex_lock(&lat_lock);
    add_reply_array(c, nseries);
    for (int i = 0; i < nseries; i++) {
        latency_series *ts = series[i];
        int last = (ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
        add_reply_array(c, 4);
        add_reply_bulk_cstr(c, ts->name);
        add_reply_integer(c, ts->samples[last].time);
        add_reply_integer(c, ts->samples[last].latency);
        add_reply_integer(c, ts->max);
    }
    pthread_mutex_unlock(&lat_lock);
}

static void latency_history_command(client *c) {
    pthread_mutex_lock(&lat_lock);
    latency_series *ts = find_series(c->argv[2].ptr, c->argv[2].len);
    if (!ts) {
        add_reply_array(c, 0);
    } else {
        int n = 0;
        for (int j = 0; j < LATENCY_TS_LEN; j++)
            if (ts->samples[j].time) n++;
        add_reply_array(c, n);
        for (int j = 0; j < LATENCY_TS_LEN; j++) {
            latency_sample *s = &ts->samples[(ts->idx + j) % LATENCY_TS_LEN];
            if (!s->time) continue;
            add_reply_array(c, 2);
            add_reply_integer(c, s->time);
            add_reply_integer(c, s->latency);
        }
    }
    pthread_mutex_unlock(&lat_lock);
}

static void latency_reset_command(client *c) {
    long long resets = 0;
    pthread_mutex_lock(&lat_lock);
    if (c->argc == 2) {
        resets = nseries;
        for (int i = 0; i < nseries; i++) mem_free(series[i]);
        nseries = 0;
    } else {
        for (int j = 2; j < c->argc; j++) {
            for (int i = 0; i < nseries; i++) {
                if (strlen(series[i]->name) == c->argv[j].len &&
                    strncasecmp(series[i]->name, c->argv[j].ptr, c->argv[j].len) == 0) {
                    mem_free(series[i]);
                    series[i] = series[--nseries];
                    resets++;
                    break;
                }
            }
        }
    }
    pthread_mutex_unlock(&lat_lock);
    add_reply_integer(c, resets);
}

static void latency_doctor_command(client *c) {
    char buf[512];
    long long threshold = cfg_get(latency_monitor_threshold);
    int n;
    if (threshold <= 0)
        n = snprintf(buf, sizeof buf,
                     "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. "
                     "You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable "
                     "it. If we weren't in a deep space mission I'd suggest to take a look at "
                     "https://redis.io/topics/latency-monitor.\n");
    else
        n = snprintf(buf, sizeof buf, "Dave, %d latency event%s recorded by the monitor (threshold %lld ms).\n",
                     nseries, nseries == 1 ? " was" : "s were", threshold);
    add_reply_verbatim(c, buf, (size_t)n, "txt");
}

static void latency_help_command(client *c) {
    static const char *const lines[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        NULL,
    };
    add_reply_help(c, "LATENCY", lines);
}

#define LAT_SUB(nm, ar, fl, fn, sum, acl)                                                                    \
    {.name = nm, .arity = ar, .flags = (fl), .proc = fn, .group = "server", .since = "2.8.13", .summary = sum,  \
     .complexity = "O(1)", .acl_categories = acl}

#define LAT_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

static command latency_subcommands[] = {
    LAT_SUB("latest", 2, LAT_FLAGS, latency_latest_command, "Return the latest latency samples for all events.",
            "admin slow dangerous"),
    LAT_SUB("history", 3, LAT_FLAGS, latency_history_command, "Return timestamp-latency samples for the event.",
            "admin slow dangerous"),
    LAT_SUB("reset", -2, LAT_FLAGS, latency_reset_command, "Reset latency data for one or more events.",
            "admin slow dangerous"),
    LAT_SUB("doctor", 2, LAT_FLAGS, latency_doctor_command, "Return a human readable latency analysis report.",
            "admin slow dangerous"),
    LAT_SUB("help", 2, CMD_LOADING | CMD_STALE, latency_help_command,
            "Show helpful text about the different subcommands.", "slow"),
    {0},
};

command latency_commands[] = {
    {.name = "latency", .arity = -2, .group = "server", .since = "2.8.13",
     .summary = "A container for latency diagnostics commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = latency_subcommands},
    {0},
};
