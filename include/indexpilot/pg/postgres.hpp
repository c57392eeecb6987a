/*
 * pg/postgres.hpp — the one way C++ files include PostgreSQL's core headers.
 *
 * PostgreSQL headers are C: they are always included inside extern "C". Files that need more PostgreSQL
 * headers include this first and wrap the rest in their own extern "C" block.
 * Files under src/core must never include this (they are built without PostgreSQL for the unit tests).
 */
#pragma once

#ifdef INDEXPILOT_CPP_ONLY_FILE
#error "a C++-only file (pg/cpp_only.hpp) includes PostgreSQL headers: use the wrappers in indexpilot/pg/ instead"
#endif

#ifdef INDEXPILOT_CORE_ONLY
#error "src/core is pure C++: it must not include PostgreSQL headers"
#endif

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}
