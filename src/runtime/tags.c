/*
 * Tag booking. StarPU-MPI 1.3 tags are 64-bit and must be unique among live
 * handles and identical on every rank for the same handle. Every rank books
 * and releases in the same order (the programming model), so a deterministic
 * first-fit allocator over a sorted free list gives the same tags everywhere.
 * A released tag is not reused at once: a rank that is ahead may already send
 * a message for the tag's next handle to a rank that still holds the old one,
 * and StarPU-MPI would take that early message for the old handle (it sizes
 * early data after the handle registered under the tag). Released tags are
 * quarantined for two collective waits (sj_wait): after the first, every rank
 * has passed the release and nothing is in flight; the second also covers
 * handles whose unregistration StarPU finishes lazily after their last task.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt.h"

typedef struct range {
    int64_t first, n;
} range_t;

typedef struct range_list {
    range_t *r;
    int count, cap;
} range_list_t;

#define TAG_FIRST ((int64_t)1)
#define TAG_END ((int64_t)1 << 62)

static range_list_t free_list, deferred, cooling;
static int64_t booked;
static int broken; /* a list could not grow: booking is refused from then on */

static void list_insert(range_list_t *l, int64_t first, int64_t n)
{
    /* Keep the list sorted and merged with its neighbours. */
    int i = 0;
    while (i < l->count && l->r[i].first < first)
        i++;
    int merge_prev = i > 0 && l->r[i - 1].first + l->r[i - 1].n == first;
    int merge_next = i < l->count && first + n == l->r[i].first;
    if (merge_prev && merge_next) {
        l->r[i - 1].n += n + l->r[i].n;
        memmove(&l->r[i], &l->r[i + 1], (size_t)(l->count - i - 1) * sizeof(range_t));
        l->count--;
    } else if (merge_prev) {
        l->r[i - 1].n += n;
    } else if (merge_next) {
        l->r[i].first = first;
        l->r[i].n += n;
    } else {
        if (l->count == l->cap) {
            int cap = l->cap ? 2 * l->cap : 16;
            range_t *r = realloc(l->r, (size_t)cap * sizeof(range_t));
            if (!r) {
                /* Ranks would book different tags from now on: refuse to book. */
                broken = 1;
                return;
            }
            l->r = r;
            l->cap = cap;
        }
        memmove(&l->r[i + 1], &l->r[i], (size_t)(l->count - i) * sizeof(range_t));
        l->r[i].first = first;
        l->r[i].n = n;
        l->count++;
    }
}

void sj__tag_reset(void)
{
    free(free_list.r);
    free(deferred.r);
    free(cooling.r);
    memset(&free_list, 0, sizeof free_list);
    memset(&deferred, 0, sizeof deferred);
    memset(&cooling, 0, sizeof cooling);
    booked = 0;
    broken = 0;
    list_insert(&free_list, TAG_FIRST, TAG_END - TAG_FIRST);
}

int64_t sj__tag_book(int64_t n)
{
    if (broken)
        return -1;
    for (int i = 0; i < free_list.count; i++) {
        range_t *r = &free_list.r[i];
        if (r->n >= n) {
            int64_t first = r->first;
            r->first += n;
            r->n -= n;
            if (r->n == 0) {
                memmove(r, r + 1, (size_t)(free_list.count - i - 1) * sizeof(range_t));
                free_list.count--;
            }
            booked += n;
            return first;
        }
    }
    return -1;
}

void sj__tag_release(int64_t first, int64_t n)
{
    if (n <= 0)
        return;
    booked -= n;
    list_insert(&deferred, first, n);
}

void sj__tag_recycle(void)
{
    for (int i = 0; i < cooling.count; i++)
        list_insert(&free_list, cooling.r[i].first, cooling.r[i].n);
    range_list_t t = cooling;
    cooling = deferred;
    deferred = t;
    deferred.count = 0;
}

int64_t sj__tag_booked(void)
{
    return booked;
}

int64_t sj__tag_waiting(void)
{
    int64_t n = 0;
    for (int i = 0; i < deferred.count; i++)
        n += deferred.r[i].n;
    for (int i = 0; i < cooling.count; i++)
        n += cooling.r[i].n;
    return n;
}
