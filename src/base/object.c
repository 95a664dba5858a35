/*
 * Registry of live public objects: a list per kind (for sj_finalize's report
 * and release) and a hash set of their addresses (for handle checks, which
 * must not read through a pointer before knowing it is live). Only the
 * application thread creates and destroys objects; checks may come from any
 * thread (a user function calling a local query), hence the mutex around the
 * set and the quarantine.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/base.h"

static sj__object_t *heads[SJ__NKINDS];

/* ---- the set of live addresses: open addressing, linear probing ------------ */

#define TOMB ((const sj__object_t *)(uintptr_t)1)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const sj__object_t **slots; /* NULL: empty; TOMB: deleted */
static size_t cap, used, tombs;    /* used counts live entries */

static size_t slot_of(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

static int set_grow(void)
{
    size_t ncap = cap ? cap * 2 : 256;
    while (ncap < 4 * (used + 1))
        ncap *= 2;
    const sj__object_t **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    const sj__object_t **old = slots;
    size_t ocap = cap;
    slots = ns;
    cap = ncap;
    tombs = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i] && old[i] != TOMB) {
            size_t k = slot_of(old[i]);
            while (slots[k])
                k = (k + 1) & (cap - 1);
            slots[k] = old[i];
        }
    free(old);
    return 0;
}

/* Tests only: fail the set's growth after @p after more growths, @p count times. */
static long fault_after = -1, fault_count;

void sj__object_fault_inject(long after, long count)
{
    pthread_mutex_lock(&lock);
    fault_after = count > 0 ? after : -1;
    fault_count = count;
    pthread_mutex_unlock(&lock);
}

static int fault_now(void)
{
    if (fault_after > 0) {
        fault_after--;
        return 0;
    }
    if (fault_after < 0 || fault_count <= 0)
        return 0;
    if (--fault_count == 0)
        fault_after = -1;
    return 1;
}

/* Insert @p o; -1 when the table had to grow and could not (nothing changed). */
static int set_insert(const sj__object_t *o)
{
    if ((used + tombs + 1) * 2 > cap && (fault_now() || set_grow() != 0))
        return -1;
    size_t k = slot_of(o);
    while (slots[k] && slots[k] != TOMB)
        k = (k + 1) & (cap - 1);
    if (slots[k] == TOMB)
        tombs--;
    slots[k] = o;
    used++;
    return 0;
}

static size_t set_find(const void *p)
{
    if (!cap)
        return SIZE_MAX;
    for (size_t k = slot_of(p);; k = (k + 1) & (cap - 1)) {
        if (!slots[k])
            return SIZE_MAX;
        if (slots[k] == p)
            return k;
    }
}

static void set_erase(const sj__object_t *o)
{
    size_t k = set_find(o);
    if (k != SIZE_MAX) {
        slots[k] = TOMB;
        used--;
        tombs++;
    }
}

/* ---- quarantine of freed objects ------------------------------------------- */

static void *quarantine[SJ__QUARANTINE];
static size_t q_next;

void sj__object_free(void *obj)
{
    if (!obj)
        return;
    pthread_mutex_lock(&lock);
    void *oldest = quarantine[q_next];
    quarantine[q_next] = obj;
    q_next = (q_next + 1) % SJ__QUARANTINE;
    pthread_mutex_unlock(&lock);
    free(oldest);
}

void sj__object_flush(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SJ__QUARANTINE; i++) {
        free(quarantine[i]);
        quarantine[i] = NULL;
    }
    q_next = 0;
    if (used == 0) { /* nothing live: give the table back too */
        free(slots);
        slots = NULL;
        cap = tombs = 0;
    }
    pthread_mutex_unlock(&lock);
}

int sj__object_track(sj__object_t *obj, sj__kind_t kind)
{
    obj->kind = kind;
    pthread_mutex_lock(&lock);
    const int rc = set_find(obj) == SIZE_MAX ? set_insert(obj) : 0;
    pthread_mutex_unlock(&lock);
    return rc < 0 ? SJ_ENOMEM : SJ_OK;
}

void sj__object_untrack(sj__object_t *obj)
{
    pthread_mutex_lock(&lock);
    set_erase(obj);
    pthread_mutex_unlock(&lock);
}

static const char *article(const char *noun)
{
    return noun[0] == 'a' || noun[0] == 'o' ? "an" : "a";
}

int sj__handle_live(const void *handle, sj__kind_t kind)
{
    if (!handle)
        return 0;
    pthread_mutex_lock(&lock);
    size_t k = set_find(handle);
    int live = k != SIZE_MAX && slots[k]->kind == kind;
    pthread_mutex_unlock(&lock);
    return live;
}

int sj__check_handle(const char *func, const char *name, const void *handle, sj__kind_t kind)
{
    if (!handle)
        return sj__error(SJ_ENULL, func, "%s is NULL", name);
    pthread_mutex_lock(&lock);
    size_t k = set_find(handle);
    /* Read the header only once the address is known to be a live object. */
    const sj__object_t *o = k == SIZE_MAX ? NULL : slots[k];
    const int have = o ? (int)o->kind : -1;
    pthread_mutex_unlock(&lock);
    if (!o)
        return sj__error(SJ_EHANDLE, func,
                         "%s (%p) is not a live starjets %s: it was destroyed, or it is not a "
                         "handle starjets made",
                         name, handle, sj__kind_name(kind, 0));
    if (have != (int)kind) {
        const char *want = sj__kind_name(kind, 0), *is = sj__kind_name((sj__kind_t)have, 0);
        return sj__error(SJ_EHANDLE, func, "%s is %s %s, not %s %s", name, article(is), is,
                         article(want), want);
    }
    return SJ_OK;
}

int sj__object_add(sj__object_t *obj, sj__kind_t kind, void (*release_user)(sj__object_t *))
{
    obj->kind = kind;
    obj->refs = 1;
    obj->user_holds = 1;
    obj->release_user = release_user;
    obj->prev = obj->next = NULL;
    /* the set first: an object that cannot be checked is not made */
    pthread_mutex_lock(&lock);
    const int rc = set_insert(obj);
    pthread_mutex_unlock(&lock);
    if (rc < 0)
        return SJ_ENOMEM;
    obj->next = heads[kind];
    if (heads[kind])
        heads[kind]->prev = obj;
    heads[kind] = obj;
    return SJ_OK;
}

void sj__object_remove(sj__object_t *obj)
{
    if (obj->prev)
        obj->prev->next = obj->next;
    else
        heads[obj->kind] = obj->next;
    if (obj->next)
        obj->next->prev = obj->prev;
    obj->prev = obj->next = NULL;
    pthread_mutex_lock(&lock);
    set_erase(obj);
    pthread_mutex_unlock(&lock);
}

void sj__object_release_all(int counts[SJ__NKINDS])
{
    for (int k = 0; k < SJ__NKINDS; k++) {
        counts[k] = 0;
        /* Releasing one object may free others of later kinds, never of this
         * kind, so restart from the head after each release. */
        for (;;) {
            sj__object_t *o = heads[k];
            while (o && !o->user_holds)
                o = o->next;
            if (!o)
                break;
            counts[k]++;
            o->release_user(o);
        }
    }
}

int64_t sj__object_count(void)
{
    int64_t n = 0;
    for (int k = 0; k < SJ__NKINDS; k++)
        for (const sj__object_t *o = heads[k]; o; o = o->next)
            n++;
    return n;
}

const char *sj__kind_name(sj__kind_t kind, int plural)
{
    static const char *names[SJ__NKINDS][2] = {
        {"operator", "operators"}, {"array", "arrays"}, {"scalar", "scalars"},
        {"layout", "layouts"},     {"space", "spaces"}, {"SPMD context", "SPMD contexts"},
        {"future", "futures"}};
    return kind < SJ__NKINDS ? names[kind][plural ? 1 : 0] : "object";
}
