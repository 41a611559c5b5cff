/* common.list: list.h's circular lists, as Linux's list.h behaves. */
#include "ktest.h"
#include "list.h"

struct item {
	int value;
	struct list_head node;
};

/* Write the values of list @head, in order, into @out (at most @max); return how many. */
static int values(struct list_head *head, int *out, int max)
{
	struct item *it;
	int n = 0;
	list_for_each_entry(it, head, node)
	{
		if (n == max)
			return max + 1; /* a list that does not end */
		out[n++] = it->value;
	}
	return n;
}

KTEST(common_list, add_front_and_back)
{
	struct list_head head = LIST_HEAD_INIT(head);
	struct item it[4] = {{.value = 0}, {.value = 1}, {.value = 2}, {.value = 3}};
	KEXPECT_TRUE(list_empty(&head));
	list_add_tail(&it[1].node, &head);
	list_add_tail(&it[2].node, &head);
	list_add(&it[0].node, &head);
	list_add_tail(&it[3].node, &head);
	KEXPECT_FALSE(list_empty(&head));
	int v[8];
	KASSERT_EQ(values(&head, v, 8), 4);
	for (int i = 0; i < 4; i++)
		KEXPECT_EQ(v[i], i); /* 0 at the front, then 1, 2, 3 in the order added at the back */
	KEXPECT_EQ(head.next, &it[0].node);
	KEXPECT_EQ(head.prev, &it[3].node);
	KEXPECT_EQ(it[3].node.next, &head);
	KEXPECT_EQ(it[0].node.prev, &head);
	KEXPECT_EQ(it[2].node.prev, &it[1].node);
}

KTEST(common_list, del_leaves_an_empty_node)
{
	struct list_head head = LIST_HEAD_INIT(head);
	struct item it[3] = {{.value = 0}, {.value = 1}, {.value = 2}};
	for (int i = 0; i < 3; i++)
		list_add_tail(&it[i].node, &head);
	list_del(&it[1].node);
	/* The node is a list of its own now: empty, pointing nowhere near the old one. */
	KEXPECT_TRUE(list_empty(&it[1].node));
	KEXPECT_EQ(it[1].node.next, &it[1].node);
	KEXPECT_EQ(it[1].node.prev, &it[1].node);
	int v[4];
	KASSERT_EQ(values(&head, v, 4), 2);
	KEXPECT_EQ(v[0], 0);
	KEXPECT_EQ(v[1], 2);
	/* A second list_del of it changes nothing around it. */
	list_del(&it[1].node);
	KEXPECT_EQ(values(&head, v, 4), 2);
	KEXPECT_EQ(it[0].node.next, &it[2].node);
	KEXPECT_EQ(it[2].node.prev, &it[0].node);
	list_del(&it[0].node);
	list_del(&it[2].node);
	KEXPECT_TRUE(list_empty(&head));
	KEXPECT_EQ(head.prev, &head);
}

KTEST(common_list, safe_iteration_removes)
{
	struct list_head head = LIST_HEAD_INIT(head);
	struct item it[5];
	for (int i = 0; i < 5; i++) {
		it[i].value = i;
		list_add_tail(&it[i].node, &head);
	}
	struct item *pos, *tmp;
	list_for_each_entry_safe(pos, tmp, &head, node) if (pos->value % 2) list_del(&pos->node);
	int v[8];
	KASSERT_EQ(values(&head, v, 8), 3);
	KEXPECT_EQ(v[0], 0);
	KEXPECT_EQ(v[1], 2);
	KEXPECT_EQ(v[2], 4);
}
