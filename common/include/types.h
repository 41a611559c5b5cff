/**
 * @file types.h
 * @brief Address and page-number types, and the conversions between them.
 *
 * Physical and virtual addresses are different things; giving them different
 * names (as rCore's PhysAddr/VirtAddr do) makes a signature say which one it
 * wants. C cannot stop you mixing them, so read the names.
 */
#ifndef MMLAB_TYPES_H
#define MMLAB_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t; /**< A physical address, in bytes. */
typedef uint64_t vaddr_t; /**< A virtual address, in bytes. */
typedef uint64_t pfn_t;	  /**< A physical frame number: paddr >> PAGE_SHIFT. */
typedef uint64_t vpn_t;	  /**< A virtual page number: vaddr >> PAGE_SHIFT. */
typedef uint64_t pte_t;	  /**< An Sv39 page-table entry (RISC-V privileged spec 4.4.1). */
typedef int64_t ssize_t;  /**< A size or a negative errno. */

#define PAGE_SHIFT    12		  /**< log2 of the base page size. */
#define PAGE_SIZE     (1UL << PAGE_SHIFT) /**< 4 KiB, the base page and frame size. */
#define MEGAPAGE_SIZE (1UL << 21)	  /**< 2 MiB, an Sv39 level-1 leaf. */
#define GIGAPAGE_SIZE (1UL << 30)	  /**< 1 GiB, an Sv39 level-2 leaf. */

#define KiB (1UL << 10) /**< Bytes in a kibibyte. */
#define MiB (1UL << 20) /**< Bytes in a mebibyte. */
#define GiB (1UL << 30) /**< Bytes in a gibibyte. */

/** Round @p x down to a multiple of @p a (a power of two). */
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
/** Round @p x up to a multiple of @p a (a power of two). */
#define ALIGN_UP(x, a) ALIGN_DOWN((x) + ((__typeof__(x))(a)-1), (a))
/** True if @p x is a multiple of @p a (a power of two). */
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
/** Number of elements of a true array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/** The smaller of two values (each evaluated once). */
#define MIN(a, b)                                                                                            \
	({                                                                                                   \
		__typeof__(a) _a = (a);                                                                      \
		__typeof__(b) _b = (b);                                                                      \
		_a < _b ? _a : _b;                                                                           \
	})
/** The larger of two values (each evaluated once). */
#define MAX(a, b)                                                                                            \
	({                                                                                                   \
		__typeof__(a) _a = (a);                                                                      \
		__typeof__(b) _b = (b);                                                                      \
		_a > _b ? _a : _b;                                                                           \
	})
/** The struct that contains @p ptr as its member @p member. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/** Frame number of the frame that holds physical address @p pa. */
static inline pfn_t pa_to_pfn(paddr_t pa) { return pa >> PAGE_SHIFT; }
/** Physical address of the first byte of frame @p pfn. */
static inline paddr_t pfn_to_pa(pfn_t pfn) { return pfn << PAGE_SHIFT; }
/** Page number of the page that holds virtual address @p va. */
static inline vpn_t va_to_vpn(vaddr_t va) { return va >> PAGE_SHIFT; }
/** Virtual address of the first byte of page @p vpn. */
static inline vaddr_t vpn_to_va(vpn_t vpn) { return vpn << PAGE_SHIFT; }

/** Mark a branch the compiler should expect to be taken. */
#define likely(x) __builtin_expect(!!(x), 1)
/** Mark a branch the compiler should expect not to be taken. */
#define unlikely(x) __builtin_expect(!!(x), 0)
/** Read a shared variable exactly once (no tearing, no caching in a register). */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
/** Write a shared variable exactly once. */
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif
