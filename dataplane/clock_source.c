/* The clock hook (clock_source.h): unset in every program; tests/sim/ sets it. */
#include "clock_source.h"

const struct clock_source *clock_source_override;
