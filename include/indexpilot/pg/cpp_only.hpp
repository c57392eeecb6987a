/*
 * pg/cpp_only.hpp — marks a file as C++ only: it reaches PostgreSQL through typed wrappers in pg/ (each
 * with its own pg::Call inside), never through PostgreSQL's headers, whose ereport(ERROR) would longjmp
 * over its destructors. Include it LAST: a PostgreSQL header included before it, or after it through
 * pg/postgres.hpp, is a compile error (pg_duckdb's utility/cpp_only_file.hpp does the same).
 */
#pragma once

#ifdef POSTGRES_H
#error "a C++-only file includes PostgreSQL headers: use the wrappers in indexpilot/pg/ instead"
#endif

#define INDEXPILOT_CPP_ONLY_FILE 1
