/*
 * textpeer: one of the two processes of ch5.user.textshare. Run as
 * `textpeer REPORT_FD GO_FD`: it writes its pid into a page of its data
 * segment, then, each time a byte arrives on GO_FD (and once at the start),
 * writes one struct textpeer_report to REPORT_FD: what mmlab_page_info()
 * says about the page of its own text that holds main() and about that data
 * page, and how many references its text frames gained since the first
 * report (another process running the same program maps the same frames:
 * each mapping is a reference). It exits 0 when GO_FD reaches its end,
 * 2 on bad arguments, 3 if a report could not be written.
 */
#include "ulib.h"

/** What textpeer reports (ch5/user/tests/textshare.c reads the same layout). */
struct textpeer_report {
	long pid;	  /* getpid() */
	long text_info;	  /* mmlab_page_info() of main()'s page */
	long data_info;	  /* mmlab_page_info() of the written data page */
	long data_value;  /* what that page holds: our pid, if nobody else wrote it */
	long text_pages;  /* text pages mapped now */
	long refs_gained; /* references gained by the text pages mapped at the first report */
};

/* A page of .data (initialised: it comes from the program file, not .bss). */
static volatile long data_page[PAGE_SIZE / sizeof(long)] __attribute__((aligned(4096))) = {1};

#define MAX_TEXT_PAGES 256
static unsigned long first_va[MAX_TEXT_PAGES]; /* the text pages at the first report */
static long first_refs[MAX_TEXT_PAGES];
static int nr_first = -1;

/* Visit every present page of our r-x areas: @fn(va, refs). Returns the pages visited. */
static long for_text_pages(void (*fn)(unsigned long va, long refs))
{
	static char maps[8192];
	long n = mmlab_maps(maps, sizeof(maps) - 1);
	long pages = 0;
	if (n <= 0)
		return 0;
	maps[n] = '\0';
	for (char *line = maps; *line;) {
		char *end;
		unsigned long start = (unsigned long)strtol(line, &end, 16);
		unsigned long stop = (unsigned long)strtol(end + 1, &end, 16);
		if (strncmp(end + 1, "r-x", 3) == 0)
			for (unsigned long va = start; va < stop; va += PAGE_SIZE) {
				long info = mmlab_page_info((void *)va);
				if (info & MMLAB_PAGE_PRESENT) {
					fn(va, MMLAB_PAGE_REFS(info));
					pages++;
				}
			}
		char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
	return pages;
}

static void remember(unsigned long va, long refs)
{
	if (nr_first < MAX_TEXT_PAGES) {
		first_va[nr_first] = va;
		first_refs[nr_first++] = refs;
	}
}

static long gained;
static void compare(unsigned long va, long refs)
{
	for (int i = 0; i < nr_first; i++)
		if (first_va[i] == va)
			gained += refs - first_refs[i];
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int report = atoi(argv[1]), go = atoi(argv[2]);
	data_page[0] = getpid();
	struct textpeer_report r;
	char c;
	do {
		r.pid = getpid();
		r.text_info = mmlab_page_info((void *)(uintptr_t)main);
		r.data_info = mmlab_page_info((void *)data_page);
		r.data_value = data_page[0];
		gained = 0;
		if (nr_first < 0) {
			nr_first = 0;
			r.text_pages = for_text_pages(remember);
		} else {
			r.text_pages = for_text_pages(compare);
		}
		r.refs_gained = gained;
		if (write(report, &r, sizeof(r)) != sizeof(r))
			return 3;
	} while (read(go, &c, 1) == 1);
	return 0;
}
