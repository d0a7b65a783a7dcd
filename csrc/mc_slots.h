/* The hash table's slots: each holds a record index, EMPTY (-1) or DUMMY (-2).
 *
 * Implementation note: a slot takes 3 bytes while the table has at most 2**23
 * slots (its records then number under 2**23, so any index, EMPTY and DUMMY
 * fit in 24 signed bits), 4 bytes in larger tables. At one million entries the
 * table has 2**21 slots, so this saves 2 of the 8.4 bytes an entry spends on
 * slots. A 3-byte slot is read with one unaligned 4-byte load and a sign
 * extension; the block has one byte of padding so the last load stays inside
 * it. A write keeps the neighbouring slot's byte. Only the cache engine (under
 * its lock, or the GIL) touches a table, so the read-modify-write is safe.
 */
#ifndef MC_SLOTS_H
#define MC_SLOTS_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MC_SLOT_SMALL_MAX ((Py_ssize_t)1 << 23)

/* Bytes per slot for a table of ``nslots`` slots. */
static inline Py_ssize_t mc_slot_width(Py_ssize_t nslots)
{
    return nslots <= MC_SLOT_SMALL_MAX ? 3 : 4;
}

/* Bytes to allocate for ``nslots`` slots (a power of two, at most 2**30). */
static inline Py_ssize_t mc_slots_bytes(Py_ssize_t nslots)
{
    return nslots * mc_slot_width(nslots) + 1;
}

static inline uint32_t mc_slot_load(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ || defined(_WIN32)
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

static inline void mc_slot_store(unsigned char *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ || defined(_WIN32)
    memcpy(p, &v, 4);
#else
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
#endif
}

static inline int32_t mc_slot_get(const unsigned char *slots, Py_ssize_t width, size_t i)
{
    uint32_t v = mc_slot_load(slots + i * (size_t)width);
    if (width == 3)
        v = (v & 0x800000u) ? (v | 0xFF000000u) : (v & 0x00FFFFFFu);
    return (int32_t)v;
}

static inline void mc_slot_set(unsigned char *slots, Py_ssize_t width, size_t i, int32_t ix)
{
    unsigned char *p = slots + i * (size_t)width;
    uint32_t v = (uint32_t)ix;
    if (width == 3)
        v = (mc_slot_load(p) & 0xFF000000u) | (v & 0x00FFFFFFu);
    mc_slot_store(p, v);
}

#endif /* MC_SLOTS_H */
