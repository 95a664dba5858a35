/*
 * Registry of live public objects. Only the application thread creates and
 * destroys objects, so no lock is needed.
 */
#include <stddef.h>

#include "base/base.h"

static sj__object_t *heads[SJ__NKINDS];

void sj__object_add(sj__object_t *obj, sj__kind_t kind, void (*release_user)(sj__object_t *))
{
    obj->kind = kind;
    obj->refs = 1;
    obj->user_holds = 1;
    obj->release_user = release_user;
    obj->prev = NULL;
    obj->next = heads[kind];
    if (heads[kind])
        heads[kind]->prev = obj;
    heads[kind] = obj;
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
