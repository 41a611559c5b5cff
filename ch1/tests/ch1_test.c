/* Shared state of ch1's tests (no tests here): the one stack of held blocks. */
#include "ch1_test.h"

struct held ch1_held;
