/**
 * @file list.h
 * @brief Circular doubly linked lists with the node inside the element (Linux's list.h).
 */
#ifndef MMLAB_LIST_H
#define MMLAB_LIST_H

#include "types.h"

/** A list node, or a list's head. An empty list's head points at itself. */
struct list_head {
	struct list_head *next; /**< Next node (the head after the last). */
	struct list_head *prev; /**< Previous node. */
};

/** Static initialiser for an empty list headed by @p name. */
#define LIST_HEAD_INIT(name)                                                                                 \
	{                                                                                                    \
		&(name), &(name)                                                                             \
	}

/** Make @p h an empty list. */
static inline void list_init(struct list_head *h) { h->next = h->prev = h; }
/** True if the list headed by @p h is empty. */
static inline bool list_empty(const struct list_head *h) { return h->next == h; }

/** Link @p n in between the adjacent nodes @p prev and @p next. */
static inline void list_insert_between(struct list_head *n, struct list_head *prev, struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
/** Insert @p n right after @p h (at the front when @p h is the head). */
static inline void list_add(struct list_head *n, struct list_head *h) { list_insert_between(n, h, h->next); }
/** Insert @p n right before @p h (at the back when @p h is the head). */
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	list_insert_between(n, h->prev, h);
}
/** Unlink @p n from its list and make it an empty list of its own. */
static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/** The element of type @p type whose member @p member is node @p ptr. */
#define list_entry(ptr, type, member) container_of(ptr, type, member)
/** Iterate @p pos over the elements of the list @p head (linked through @p member). */
#define list_for_each_entry(pos, head, member)                                                               \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head);               \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))
/** As list_for_each_entry, but @p pos may be removed inside the loop. */
#define list_for_each_entry_safe(pos, tmp, head, member)                                                     \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),                                       \
	    tmp = list_entry(pos->member.next, __typeof__(*pos), member);                                    \
	     &pos->member != (head);                                                                         \
	     pos = tmp, tmp = list_entry(tmp->member.next, __typeof__(*tmp), member))

#endif
