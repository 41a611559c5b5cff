/*
 * The area tree: an AVL tree of struct vma keyed by start, with parent
 * links so that next/prev need no stack (given code, not an exercise).
 *
 * Reference: Adelson-Velsky and Landis (1962); Knuth TAOCP vol. 3, 6.2.3;
 * Linux's earlier vm_area rb-tree (mm/mmap.c before 6.1) for the role.
 */
#include "errno.h"
#include "vma_tree.h"

static int height(const struct vma_node *n) { return n ? n->height : 0; }

static void update_height(struct vma_node *n)
{
	int l = height(n->left), r = height(n->right);
	n->height = (l > r ? l : r) + 1;
}

static int balance_of(const struct vma_node *n) { return height(n->left) - height(n->right); }

/* Point whoever pointed at @old (its parent, or the root) at @new. */
static void replace_child(struct vma_tree *t, struct vma_node *parent, struct vma_node *old,
			  struct vma_node *new_node)
{
	if (!parent)
		t->root = new_node;
	else if (parent->left == old)
		parent->left = new_node;
	else
		parent->right = new_node;
	if (new_node)
		new_node->parent = parent;
}

/* Rotate @x's right child up into its place; @return the new subtree root. */
static struct vma_node *rotate_left(struct vma_tree *t, struct vma_node *x)
{
	struct vma_node *y = x->right;
	replace_child(t, x->parent, x, y);
	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	y->left = x;
	x->parent = y;
	update_height(x);
	update_height(y);
	return y;
}

/* Rotate @x's left child up into its place; @return the new subtree root. */
static struct vma_node *rotate_right(struct vma_tree *t, struct vma_node *x)
{
	struct vma_node *y = x->left;
	replace_child(t, x->parent, x, y);
	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	y->right = x;
	x->parent = y;
	update_height(x);
	update_height(y);
	return y;
}

/* Restore the AVL balance at @n (one single or double rotation); @return the subtree's root. */
static struct vma_node *rebalance_node(struct vma_tree *t, struct vma_node *n)
{
	update_height(n);
	int b = balance_of(n);
	if (b > 1) {
		if (balance_of(n->left) < 0)
			rotate_left(t, n->left);
		return rotate_right(t, n);
	}
	if (b < -1) {
		if (balance_of(n->right) > 0)
			rotate_right(t, n->right);
		return rotate_left(t, n);
	}
	return n;
}

/* Walk from @n up to the root, rebalancing every node on the way. */
static void rebalance_up(struct vma_tree *t, struct vma_node *n)
{
	while (n)
		n = rebalance_node(t, n)->parent;
}

struct vma *vma_tree_find(const struct vma_tree *t, vaddr_t va)
{
	struct vma_node *n = t->root;
	while (n) {
		struct vma *v = vma_of(n);
		if (va < v->start)
			n = n->left;
		else if (va >= v->end)
			n = n->right;
		else
			return v;
	}
	return NULL;
}

struct vma *vma_tree_find_after(const struct vma_tree *t, vaddr_t va)
{
	struct vma_node *n = t->root;
	struct vma *best = NULL;
	while (n) {
		struct vma *v = vma_of(n);
		if (v->end > va) {
			best = v; /* a candidate; a lower one may be on the left */
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

int vma_tree_insert(struct vma_tree *t, struct vma *vma)
{
	struct vma_node **link = &t->root, *parent = NULL;
	while (*link) {
		struct vma *v = vma_of(*link);
		parent = *link;
		if (vma->end <= v->start)
			link = &parent->left;
		else if (vma->start >= v->end)
			link = &parent->right;
		else
			return -EEXIST;
	}
	vma->node = (struct vma_node){.parent = parent, .height = 1};
	*link = &vma->node;
	rebalance_up(t, parent);
	return 0;
}

static struct vma_node *leftmost(struct vma_node *n)
{
	while (n && n->left)
		n = n->left;
	return n;
}

static struct vma_node *rightmost(struct vma_node *n)
{
	while (n && n->right)
		n = n->right;
	return n;
}

void vma_tree_remove(struct vma_tree *t, struct vma *vma)
{
	struct vma_node *n = &vma->node, *fix;
	if (n->left && n->right) {
		/* Two children: the successor (no left child) takes n's place. */
		struct vma_node *s = leftmost(n->right);
		if (s->parent == n) {
			fix = s;
		} else {
			fix = s->parent;
			replace_child(t, s->parent, s, s->right);
			s->right = n->right;
			s->right->parent = s;
		}
		replace_child(t, n->parent, n, s);
		s->left = n->left;
		s->left->parent = s;
		s->height = n->height;
	} else {
		fix = n->parent;
		replace_child(t, n->parent, n, n->left ? n->left : n->right);
	}
	*n = (struct vma_node){0};
	rebalance_up(t, fix);
}

struct vma *vma_tree_first(const struct vma_tree *t) { return vma_of(leftmost(t->root)); }

struct vma *vma_tree_last(const struct vma_tree *t) { return vma_of(rightmost(t->root)); }

struct vma *vma_tree_next(const struct vma *vma)
{
	const struct vma_node *n = &vma->node;
	if (n->right)
		return vma_of(leftmost(n->right));
	while (n->parent && n->parent->right == n)
		n = n->parent;
	return vma_of(n->parent);
}

struct vma *vma_tree_prev(const struct vma *vma)
{
	const struct vma_node *n = &vma->node;
	if (n->left)
		return vma_of(rightmost(n->left));
	while (n->parent && n->parent->left == n)
		n = n->parent;
	return vma_of(n->parent);
}

/* Check the subtree at @n within (lo, hi]; @return its node count, or -1. */
static long check_node(const struct vma_node *n, const struct vma_node *parent, vaddr_t lo, vaddr_t hi)
{
	if (!n)
		return 0;
	const struct vma *v = vma_of((struct vma_node *)n);
	if (n->parent != parent || v->start >= v->end || v->start < lo || v->end > hi)
		return -1;
	long l = check_node(n->left, n, lo, v->start);
	long r = check_node(n->right, n, v->end, hi);
	int hl = height(n->left), hr = height(n->right);
	int want = (hl > hr ? hl : hr) + 1;
	if (l < 0 || r < 0 || n->height != want || hl - hr > 1 || hr - hl > 1)
		return -1;
	return l + r + 1;
}

long vma_tree_check(const struct vma_tree *t) { return check_node(t->root, NULL, 0, ~0UL); }
