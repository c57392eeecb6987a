/*
 * advisor/discovery.cpp — indexpilot.manage, indexpilot.exclude and indexpilot._exclude_list() (see
 * advisor/discovery.hpp).
 */
#include "indexpilot/advisor/discovery.hpp"

#include "indexpilot/core/error.hpp"
#include "indexpilot/core/naming.hpp"
#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/query.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
}

#include <string>
#include <vector>

namespace indexpilot::advisor
{

enum class Manage { All = 0, Registered = 1 };

static int s_manage = static_cast<int>(Manage::All);
static char *s_exclude = nullptr;

static const struct config_enum_entry kManage[] = {
	{"all", static_cast<int>(Manage::All), false},
	{"registered", static_cast<int>(Manage::Registered), false},
	{nullptr, 0, false},
};

/* indexpilot.exclude: a list core::ParseNameList accepts (it says what is wrong). */
static bool
CheckExclude(char **newval, void **, GucSource)
{
	// The reason is copied out of the C++ objects first: GUC_check_errdetail allocates (it may raise).
	char reason[256] = "out of memory";
	try {
		std::vector<core::QualifiedName> names;
		std::string error;
		if (core::ParseNameList(*newval != nullptr ? *newval : "", &names, &error))
			return true;
		strlcpy(reason, error.c_str(), sizeof(reason));
	} catch (...) {
	}
	GUC_check_errdetail("%s", reason);
	return false;
}

void
DefineDiscoveryGucs()
{
	DefineCustomEnumVariable(
		"indexpilot.manage", "Which tables IndexPilot manages: all (every user table, found by itself) or registered.",
		nullptr, &s_manage, static_cast<int>(Manage::All), kManage, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomStringVariable("indexpilot.exclude",
							   "Schemas and tables IndexPilot leaves alone: a list of schema or schema.table names.",
							   nullptr, &s_exclude, "", PGC_SIGHUP, GUC_LIST_INPUT, CheckExclude, nullptr, nullptr);
}

void
Discover()
{
	/* Workers resolve names in pg_catalog only: the function is named with its schema. */
	(void)pg::Query("SELECT indexpilot._discover()");
}

/* The rows of indexpilot._exclude_list(): the parsed setting (checked when it was set). */
static void
ExcludeList(FunctionCallInfo fcinfo)
{
	std::vector<core::QualifiedName> names;
	std::string error;
	if (!core::ParseNameList(s_exclude != nullptr ? s_exclude : "", &names, &error))
		throw core::Error(core::sqlstate::kInvalidParameterValue, "indexpilot.exclude is malformed: " + error);
	pg::Call([&] {
		pg::InitMaterializedResult(fcinfo);
		auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
		for (const core::QualifiedName &n : names) {
			Datum values[2];
			bool nulls[2] = {false, n.table.empty()};
			values[0] = DirectFunctionCall1(namein, CStringGetDatum(n.schema.c_str()));
			values[1] = n.table.empty() ? (Datum)0 : DirectFunctionCall1(namein, CStringGetDatum(n.table.c_str()));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	});
}

} // namespace indexpilot::advisor

/* indexpilot._exclude_list() returns setof (schema_name name, table_name name): indexpilot.exclude, parsed. */
INDEXPILOT_FUNCTION(indexpilot_exclude_list)
{
	indexpilot::advisor::ExcludeList(fcinfo);
	return (Datum)0;
}
