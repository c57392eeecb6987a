/*
 * test/unit/main.cpp — the Boost.Test runner for the pure C++ core (no PostgreSQL, no server).
 */
#define BOOST_TEST_MODULE indexpilot_core
#include <boost/test/unit_test.hpp>
