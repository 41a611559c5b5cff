/*
 * shmpeer: one of two unrelated processes (each exec'd afresh: nothing
 * inherited but the key) that share a System V segment found by key, for
 * ch5.user.shm.
 *
 *   shmpeer writer KEY   create the segment of KEY (2 pages), fill it with a
 *                        pattern, raise the ready word, wait for the reader's
 *                        answer in the segment, detach; exit 0 if all went well
 *   shmpeer reader KEY   find KEY's segment (waiting for it to appear), wait
 *                        for the ready word, check the pattern, answer,
 *                        detach; exit 0 if the pattern was there
 *
 * The exit code says which step failed (1 usage, 2 shmget, 3 shmat,
 * 4 timeout, 5 pattern, 6 shmdt).
 */
#include "shm.h"

#define READY  0x5245414459L   /* "READY" */
#define ANSWER 0x414e53574552L /* "ANSWER" */
#define WORDS  (2 * PAGE_SIZE / sizeof(long))
#define TRIES  4000000L

/* Poll @p until it holds @want. */
static bool wait_for(volatile long *p, long want)
{
	for (long i = 0; i < TRIES; i++) {
		if (*p == want)
			return true;
		if (i % 64 == 0)
			sched_yield();
	}
	return *p == want;
}

static long pattern(unsigned long i, int key) { return (long)(i * 2654435761UL) ^ key; }

static int writer(int key)
{
	int id = shmget(key, 2 * PAGE_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (id < 0)
		return 2;
	volatile long *w = shmat(id, NULL, 0);
	if (w == (void *)-1)
		return 3;
	for (unsigned long i = 2; i < WORDS; i++)
		w[i] = pattern(i, key);
	w[0] = READY; /* the reader may look now */
	bool answered = wait_for(&w[1], ANSWER);
	if (shmdt((void *)w))
		return 6;
	return answered ? 0 : 4;
}

static int reader(int key)
{
	int id = -1;
	for (long i = 0; i < TRIES / 64 && id < 0; i++) {
		id = shmget(key, 0, 0); /* ENOENT until the writer made it */
		if (id < 0)
			sched_yield();
	}
	if (id < 0)
		return 2;
	volatile long *w = shmat(id, NULL, 0);
	if (w == (void *)-1)
		return 3;
	int rc = 0;
	if (!wait_for(&w[0], READY))
		rc = 4;
	for (unsigned long i = 2; !rc && i < WORDS; i++)
		if (w[i] != pattern(i, key))
			rc = 5;
	if (!rc)
		w[1] = ANSWER;
	if (shmdt((void *)w))
		return 6;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 1;
	int key = atoi(argv[2]);
	if (!strcmp(argv[1], "writer"))
		return writer(key);
	if (!strcmp(argv[1], "reader"))
		return reader(key);
	return 1;
}
